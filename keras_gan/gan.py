"""The GAN of the Keras slide deck: a discriminator, a generator, and the combined model.

The recipe (Goodfellow et al. 2014, with Salimans et al. 2016's one-sided label smoothing):

* D step: ``D.train_on_batch(concat([real, G(z)]), [0.9] * n + [0] * n)``;
* G step: ``combined.train_on_batch(z', [1] * n)`` where ``combined = D(G(z))`` with D frozen,
  i.e. the non-saturating generator loss -log D(G(z')).

Keras 3 captures which weights a model trains when its train function is traced (its first
`train_on_batch`, and again whenever a new input signature retraces it), not at `compile()`. The
flag `D.trainable` is shared by D on its own and D inside the combined model, so it is set before
*every* call: whatever a trace sees, D's own step trains D alone and the combined step trains G
alone (and BatchNorm inside the frozen D runs in inference mode). tests/test_gan.py checks this
on the weights themselves, over many steps and across a checkpoint restore.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_gan.optimizers import FusedAdam


class GAN:
    """Holds G, D and the combined model, and runs one training step of each."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *,
                 d_optimizer=None, g_optimizer=None, loss="binary_crossentropy",
                 label_smoothing: float = 0.9):
        self.generator = generator
        self.discriminator = discriminator
        self.label_smoothing = float(label_smoothing)
        # Two optimizers: a Keras 3 optimizer is built for one list of variables, so the deck's
        # single shared Adam instance cannot serve both models.
        d_optimizer = d_optimizer or FusedAdam(2e-4, beta_1=0.5)
        g_optimizer = g_optimizer or FusedAdam(2e-4, beta_1=0.5)
        discriminator.trainable = True
        discriminator.compile(optimizer=d_optimizer, loss=loss)
        d_optimizer.build(discriminator.trainable_variables)
        discriminator.trainable = False
        noise = keras.Input(shape=generator.input_shape[1:], name="noise")
        self.combined = keras.Model(noise, discriminator(generator(noise)), name="gan")
        self.combined.compile(optimizer=g_optimizer, loss=loss)
        g_optimizer.build(self.combined.trainable_variables)
        self._labels = {}
        self._d_export = None

    def _targets(self, n: int):
        if n not in self._labels:
            real = np.full((n, 1), self.label_smoothing, np.float32)
            d = np.concatenate([real, np.zeros((n, 1), np.float32)])
            self._labels[n] = (tf.constant(d), tf.constant(np.ones((n, 1), np.float32)))
        return self._labels[n]

    @tf.function(reduce_retracing=True, jit_compile=True)
    def _discriminator_batch(self, real, noise):
        # G in inference mode, as the deck's `generator.predict(noise)`, but one compiled call
        # (XLA: on a 2-core CPU it runs this forward pass about 15% faster than the graph executor).
        return tf.concat([tf.cast(real, tf.float32), self.generator(noise, training=False)], axis=0)

    def discriminator_step(self, real, noise) -> float:
        """One D update on real images (label 0.9) and G(noise) (label 0); returns D's loss."""
        d_targets, _ = self._targets(int(real.shape[0]))
        x = self._discriminator_batch(real, noise)
        self.discriminator.trainable = True
        return float(self.discriminator.train_on_batch(x, d_targets))

    def generator_step(self, noise) -> float:
        """One G update through the combined model with D frozen; returns G's loss."""
        _, g_targets = self._targets(int(noise.shape[0]))
        self.discriminator.trainable = False
        return float(self.combined.train_on_batch(noise, g_targets))

    def train_step(self, real, noise_d, noise_g) -> tuple[float, float]:
        return self.discriminator_step(real, noise_d), self.generator_step(noise_g)

    def sample(self, noise) -> np.ndarray:
        return np.asarray(self.generator(noise, training=False))

    def discriminator_for_export(self) -> keras.Model:
        """An uncompiled copy of D with D's current weights, made once and refreshed on each call."""
        if self._d_export is None:
            self._d_export = keras.models.clone_model(self.discriminator)
        self._d_export.set_weights(self.discriminator.get_weights())
        return self._d_export

    # --- state, for checkpoints ------------------------------------------------------------------
    def _parts(self):
        return {
            "generator": self.generator.variables,
            "discriminator": self.discriminator.variables,  # includes Dropout's seed state
            "d_optimizer": self.discriminator.optimizer.variables,
            "g_optimizer": self.combined.optimizer.variables,
        }

    def get_state(self) -> dict[str, np.ndarray]:
        return {f"{part}/{i}": np.asarray(v) for part, vs in self._parts().items()
                for i, v in enumerate(vs)}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        for part, variables in self._parts().items():
            stored = sorted((k for k in state if k.startswith(part + "/")),
                            key=lambda k: int(k.split("/")[1]))
            if len(stored) != len(variables):
                raise ValueError(f"checkpoint has {len(stored)} {part} variables, model has {len(variables)}")
            for key, var in zip(stored, variables):
                if tuple(state[key].shape) != tuple(var.shape):
                    raise ValueError(f"checkpoint {key} has shape {state[key].shape}, "
                                     f"model variable {var.path} has {tuple(var.shape)}")
            for key, var in zip(stored, variables):
                var.assign(state[key])
