"""The state of a model being trained, as one dict of arrays: what a checkpoint saves and restores.

Each trainable thing of the family (keras_gan/models/gan.py's GAN, CycleGAN, SRGAN) lists its parts, each
a list of Keras variables (a network's weights and statistics, an optimizer's moments and step
count: a learning-rate schedule is a function of that count), and any state outside Keras (an
image pool) through `extra_state`/`set_extra_state`.
"""

import keras
import numpy as np


class Stateful:
    """`get_state`, `set_state` and `nonfinite_parts` over `_parts()`: {part: [variables]}."""

    def _parts(self) -> dict:
        raise NotImplementedError

    def extra_state(self) -> dict[str, np.ndarray]:
        """State that is not in Keras variables; none by default."""
        return {}

    def set_extra_state(self, state: dict[str, np.ndarray]) -> None:
        pass

    def nonfinite_parts(self) -> list[str]:
        """The parts of the state that hold a NaN or an infinity: a diverged state, never to be saved."""
        def finite(v):
            a = keras.ops.convert_to_numpy(v)
            return a.dtype.kind != "f" or bool(np.isfinite(a).all())

        return [part for part, variables in self._parts().items() if not all(finite(v) for v in variables)]

    def get_state(self) -> dict[str, np.ndarray]:
        state = {f"{part}/{i}": keras.ops.convert_to_numpy(v) for part, vs in self._parts().items() for i, v in enumerate(vs)}
        return {**state, **self.extra_state()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restores a `get_state`; a ValueError (before anything changes) if it does not fit."""
        pairs = []
        for part, variables in self._parts().items():
            stored = sorted((k for k in state if k.startswith(part + "/")), key=lambda k: int(k.split("/")[1]))
            if len(stored) != len(variables):
                raise ValueError(f"checkpoint has {len(stored)} {part} variables, model has {len(variables)}")
            for key, var in zip(stored, variables):
                if tuple(state[key].shape) != tuple(var.shape):
                    raise ValueError(f"checkpoint {key} has shape {state[key].shape}, "
                                     f"model variable {var.path} has {tuple(var.shape)}")
                pairs.append((key, var))
        for key, var in pairs:
            var.assign(state[key])
        self.set_extra_state(state)
