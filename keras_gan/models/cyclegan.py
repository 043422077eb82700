"""CycleGAN (Zhu et al. 2017, arXiv:1703.10593): unpaired translation between two image domains.

Built the classic Keras way, as the rest of the family: two generators (G: A->B, F: B->A) and two
discriminators, each discriminator compiled on its own, and one combined model with both
discriminators frozen and six weighted outputs, trained with `train_on_batch`:

    combined([a, b]) = [D_B(G(a)), D_A(F(b)),  F(G(a)), G(F(b)),  F(a), G(b)]
    losses             mse        mse         mae      mae       mae   mae
    weights            1          1           lambda   lambda    lambda/2 lambda/2

that is the least-squares adversarial loss, the cycle-consistency loss (L1, lambda = 10) and the
identity loss (L1, 0.5 lambda) of the paper. Each discriminator trains on `concat([real, fake])`
with targets 1 and 0 over its patch map, whose mean squared error is the paper's halved D
objective; its fakes come from a pool of the last 50 generated images (`ImagePool`, after
Shrivastava et al. 2017). Both optimizers are Adam(2e-4, 0.5) with the learning rate held for the
first half of training and decayed linearly to zero over the second (`HoldThenDecay`).

The networks are the paper's, scaled to 28x28 and 32x32 images: a ResNet generator (7x7 conv,
two stride-2 convolutions down, residual blocks, two transposed convolutions up, 7x7 conv to tanh)
with instance normalisation, and a PatchGAN discriminator of 4x4 convolutions. They use Keras's
built-in layers only (zero "same" padding where the paper reflects), so that a saved generator
loads with Keras alone. Under tf.distribute each `train_on_batch` gives every replica its shard of
both domains' batches and targets (keras_gan/models/replicas.py); instance normalisation is per image.
"""

import json

import keras
import numpy as np
from keras import layers

from keras_gan.models import replicas
from keras_gan.models.state import Stateful

LAMBDA_CYCLE = 10.0


def instance_norm(name=None):
    """Instance normalisation without affine parameters, as the paper's code (InstanceNorm2d)."""
    return layers.GroupNormalization(groups=-1, center=False, scale=False, epsilon=1e-5, name=name)


def _conv_block(x, filters, kernel, strides=1, transpose=False, name=None):
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    x = conv(filters, kernel, strides=strides, padding="same", name=name)(x)
    return layers.ReLU()(instance_norm()(x))


def resnet_generator(image_shape=(28, 28, 1), *, filters: int = 32, blocks: int = 6, name="generator") -> keras.Model:
    """The paper's ResNet generator (c7s1-f, d2f, d4f, R4f x blocks, u2f, uf, c7s1-C with tanh); the
    paper uses f = 64 and 6 blocks at 128x128, 9 at 256x256."""
    height, width, channels = image_shape
    if height % 4 or width % 4:
        raise ValueError(f"the ResNet generator halves the image twice: {height}x{width} must divide by 4.")
    inputs = keras.Input(shape=image_shape, name="image")
    x = _conv_block(inputs, filters, 7)
    x = _conv_block(x, 2 * filters, 3, strides=2)
    x = _conv_block(x, 4 * filters, 3, strides=2)
    for _ in range(blocks):
        y = _conv_block(x, 4 * filters, 3)
        y = instance_norm()(layers.Conv2D(4 * filters, 3, padding="same")(y))
        x = layers.Add()([x, y])
    x = _conv_block(x, 2 * filters, 3, strides=2, transpose=True)
    x = _conv_block(x, filters, 3, strides=2, transpose=True)
    outputs = layers.Conv2D(channels, 7, padding="same", activation="tanh", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def patch_discriminator(image_shape=(28, 28, 1), *, filters: int = 32, layers_down: int = 2,
                        name="discriminator") -> keras.Model:
    """PatchGAN: 4x4 convolutions, `layers_down` of stride 2 (the paper's 70x70 has 3 at 256x256),
    then one of stride 1 and a 4x4 convolution to one score per patch (raw, for the squared loss).
    With the default a 28x28 image gets 7x7 scores, each seeing 34x34 pixels, the whole image. At
    this size a shoe fills the image: with one layer down (14x14 scores of 16x16 patches) D judged
    texture alone, and after 600 steps G's shoes were grainy blobs (test L1 0.28 against their true
    images) where with two they were shoes (0.15; 16 filters, 3 blocks, batch 32)."""
    inputs = keras.Input(shape=image_shape, name="image")
    x = layers.LeakyReLU(0.2)(layers.Conv2D(filters, 4, strides=2, padding="same")(inputs))
    for i in range(1, layers_down):
        x = layers.Conv2D(filters * 2 ** i, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(instance_norm()(x))
    x = layers.Conv2D(filters * 2 ** layers_down, 4, padding="same")(x)
    x = layers.LeakyReLU(0.2)(instance_norm()(x))
    outputs = layers.Conv2D(1, 4, padding="same", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def build_networks(image_shape=(28, 28, 1), *, filters: int = 32, blocks: int = 6, layers_down: int = 2):
    """G (A->B), F (B->A), D_A and D_B, named generator_a2b, generator_b2a, discriminator_a, discriminator_b."""
    return (resnet_generator(image_shape, filters=filters, blocks=blocks, name="generator_a2b"),
            resnet_generator(image_shape, filters=filters, blocks=blocks, name="generator_b2a"),
            patch_discriminator(image_shape, filters=filters, layers_down=layers_down, name="discriminator_a"),
            patch_discriminator(image_shape, filters=filters, layers_down=layers_down, name="discriminator_b"))


@keras.saving.register_keras_serializable(package="keras_gan")
class HoldThenDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`rate` for `hold_steps` updates, then linearly to 0 over `decay_steps` (the paper: 100 epochs
    at 2e-4, then 100 decaying)."""

    def __init__(self, rate: float, hold_steps: int, decay_steps: int):
        self.rate, self.hold_steps, self.decay_steps = float(rate), int(hold_steps), int(decay_steps)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        done = keras.ops.clip((step - self.hold_steps) / max(self.decay_steps, 1), 0.0, 1.0)
        return self.rate * (1.0 - done)

    def get_config(self):
        return {"rate": self.rate, "hold_steps": self.hold_steps, "decay_steps": self.decay_steps}


class ImagePool:
    """The last `size` generated images; a discriminator trains on a mix of new and older fakes.

    For each new image: while the pool is not full it is stored and returned; after that, with
    probability 1/2 a random stored image is returned and replaced by it, else it is returned
    itself (the paper's code, `ImagePool.query`). The state (images and random generator) is
    saved with the checkpoint, so that a resumed run draws what an uninterrupted one does."""

    def __init__(self, size: int = 50, seed: int = 0):
        self.size = int(size)
        self.images: list[np.ndarray] = []
        self.rng = np.random.default_rng(seed)

    def query(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if self.size == 0:
            return images
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.copy())
                out.append(image)
            elif self.rng.random() > 0.5:
                i = int(self.rng.integers(self.size))
                out.append(self.images[i])
                self.images[i] = image.copy()
            else:
                out.append(image)
        return np.stack(out)

    def get_state(self, prefix: str) -> dict[str, np.ndarray]:
        rng = json.dumps(self.rng.bit_generator.state).encode()
        state = {f"{prefix}/rng": np.frombuffer(rng, np.uint8)}
        if self.images:
            state[f"{prefix}/images"] = np.stack(self.images)
        return state

    def set_state(self, state: dict, prefix: str) -> None:
        self.images = list(state[f"{prefix}/images"]) if f"{prefix}/images" in state else []
        self.rng.bit_generator.state = json.loads(bytes(state[f"{prefix}/rng"]).decode())


TERMS = ("adv_a2b", "adv_b2a", "cycle_a", "cycle_b", "identity_a", "identity_b")


class CycleGAN(Stateful):
    """G: A->B, F: B->A, D_A, D_B and the combined model; `train_step(a, b)` runs one update of each
    discriminator and one of both generators, all through `train_on_batch`, and returns every loss:
    D_A's and D_B's, the generators' weighted total, and its six terms unweighted (`TERMS`: the
    combined model's outputs are named after them)."""

    loss_names = ("d_a_loss", "d_b_loss", "g_loss", *TERMS)

    def __init__(self, g_ab: keras.Model, g_ba: keras.Model, d_a: keras.Model, d_b: keras.Model, *,
                 lambda_cycle: float = LAMBDA_CYCLE, identity: float = 0.5, pool_size: int = 50, seed: int = 0,
                 real_target: float = 1.0, optimizers=None):
        """`identity` weighs the identity loss as a fraction of `lambda_cycle` (the paper's 0.5; 0 for
        none); `real_target` is the discriminators' target for real images (1, or 0.9 for one-sided
        label smoothing). `optimizers` are (D_A's, D_B's, the generators'); Adam(2e-4, 0.5) by default."""
        names = [m.name for m in (g_ab, g_ba, d_a, d_b)]
        if len(set(names)) < 4:
            raise ValueError(f"the four networks need distinct names to live in one combined model; got {names} "
                             "(build them with name=..., as build_networks does).")
        self.g_ab, self.g_ba, self.d_a, self.d_b = g_ab, g_ba, d_a, d_b
        self.real_target = float(real_target)
        d_a_opt, d_b_opt, g_opt = optimizers or [keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in range(3)]
        for d, optimizer in ((d_a, d_a_opt), (d_b, d_b_opt)):
            d.trainable = True
            d.compile(optimizer=optimizer, loss="mse")
            optimizer.build(d.trainable_variables)
        d_a.trainable = d_b.trainable = False
        shape = tuple(g_ab.inputs[0].shape[1:])
        a, b = keras.Input(shape=shape, name="a"), keras.Input(shape=shape, name="b")
        fake_b, fake_a = g_ab(a), g_ba(b)
        outputs = [d_b(fake_b), d_a(fake_a), g_ba(fake_b), g_ab(fake_a), g_ba(a), g_ab(b)]
        outputs = [layers.Identity(name=term)(x) for term, x in zip(TERMS, outputs)]
        self.loss_weights = [1.0, 1.0, lambda_cycle, lambda_cycle, identity * lambda_cycle, identity * lambda_cycle]
        self.combined = keras.Model([a, b], outputs, name="cyclegan")
        self.combined.compile(optimizer=g_opt, loss=["mse", "mse", "mae", "mae", "mae", "mae"],
                              loss_weights=self.loss_weights)
        g_opt.build(self.combined.trainable_variables)
        self.pool_a, self.pool_b = ImagePool(pool_size, seed), ImagePool(pool_size, seed + 1)
        self._targets = {}

    def _patch_targets(self, n: int):
        if n not in self._targets:
            patch = tuple(self.d_a.outputs[0].shape[1:])
            ones = np.ones((n, *patch), np.float32)
            self._targets[n] = (ones, np.concatenate([ones * self.real_target, np.zeros_like(ones)]))
        return self._targets[n]

    def discriminator_step(self, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        """One update of D_A on `a` against F(b) and of D_B on `b` against G(a), the fakes through the
        pools; returns their losses."""
        a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
        _, d_targets = self._patch_targets(len(a))
        fake_b = self.pool_b.query(keras.ops.convert_to_numpy(self.g_ab(a, training=False)))
        fake_a = self.pool_a.query(keras.ops.convert_to_numpy(self.g_ba(b, training=False)))
        self.d_a.trainable = self.d_b.trainable = True  # set before every call: see keras_gan/models/gan.py
        d_a = replicas.train_on_batch(self.d_a, np.concatenate([a, fake_a]), d_targets)
        d_b = replicas.train_on_batch(self.d_b, np.concatenate([b, fake_b]), d_targets)
        return d_a, d_b

    def generator_step(self, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
        """One update of both generators through the combined model, both discriminators frozen;
        returns the weighted total (g_loss) and each term."""
        a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
        self.d_a.trainable = self.d_b.trainable = False
        logs = replicas.train_on_batch(self.combined, [a, b], self.targets(a, b), return_dict=True)
        return {"g_loss": logs["loss"], **{term: logs[f"{term}_loss"] for term in TERMS}}

    def targets(self, a, b) -> list:
        """The combined model's targets for batches `a` and `b`."""
        ones, _ = self._patch_targets(len(a))
        return [ones, ones, a, b, a, b]

    def train_step(self, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
        """One update of D_A, D_B and the generators on unpaired batches `a` and `b` (same size)."""
        d_a, d_b = self.discriminator_step(a, b)
        return {"d_a_loss": d_a, "d_b_loss": d_b, **self.generator_step(a, b)}

    def translate(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Rows of a, G(a), F(G(a)), b, F(b), G(F(b)) (inference mode), as one array of images."""
        def apply(g, x):
            return keras.ops.convert_to_numpy(g(x, training=False))

        fake_b, fake_a = apply(self.g_ab, a), apply(self.g_ba, b)
        rows = [a, fake_b, apply(self.g_ba, fake_b), b, fake_a, apply(self.g_ab, fake_a)]
        return np.stack(rows, axis=1).reshape((-1, *a.shape[1:]))

    def exports(self) -> dict:
        """The networks a run folder keeps, by file name (without .keras)."""
        return {"generator_a2b": self.g_ab, "generator_b2a": self.g_ba,
                "discriminator_a": self.d_a, "discriminator_b": self.d_b}

    # --- state, for checkpoints (keras_gan/models/state.py) -----------------------------------------
    def _parts(self):
        return {"generator_a2b": self.g_ab.variables, "generator_b2a": self.g_ba.variables,
                "discriminator_a": self.d_a.variables, "discriminator_b": self.d_b.variables,
                "d_a_optimizer": self.d_a.optimizer.variables, "d_b_optimizer": self.d_b.optimizer.variables,
                "g_optimizer": self.combined.optimizer.variables}

    def extra_state(self):
        return {**self.pool_a.get_state("pool_a"), **self.pool_b.get_state("pool_b")}

    def set_extra_state(self, state):
        self.pool_a.set_state(state, "pool_a")
        self.pool_b.set_state(state, "pool_b")
