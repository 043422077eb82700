"""SRGAN and SRResNet (Ledig et al. 2017, arXiv:1609.04802): super-resolution by a residual network,
trained on a pixel loss alone (SRResNet) or on the perceptual loss (SRGAN).

    perceptual loss = content loss + 1e-3 * adversarial loss

The content loss is the mean squared error between feature maps of the super-resolved and the
real high-resolution image; the paper takes VGG19's, and here, where ImageNet weights cannot be
downloaded, a feature network is passed in (the package's dataset classifier by default, or VGG19
from a weights file). The adversarial loss is the non-saturating -log D(G(x_LR)), from D's logits.

Built as the rest of the family: D compiled on its own, trained with `train_on_batch` on
`concat([hr, G(lr)])` with targets 1 and 0; then a combined model with D frozen,

    combined(lr) = [features(G(lr)), D(G(lr))]     losses mse, logits cross-entropy; weights 1, 1e-3

trained with `train_on_batch(lr, [features(hr), 1])`. The feature network is frozen throughout.
SRResNet is the combined model's generator alone, compiled with the pixel-wise mean squared error;
the paper trains it first and starts SRGAN's generator from it (`--init_generator`, keras_gan/training/tasks.py).
Under tf.distribute every `train_on_batch` gives each replica its shard of the batch
(keras_gan/models/replicas.py) and BatchNorm is synchronized across them.

The generator upsamples by sub-pixel convolution (Shi et al. 2016): a convolution to r*r times the
channels, then `pixel_shuffle`, which rearranges them into an r-times larger image. It is built of
Keras's Reshape and Permute layers, so that a saved generator loads with Keras alone.
"""

import keras
import numpy as np
from keras import layers

from keras_gan.models import networks, replicas
from keras_gan.models.state import Stateful

ADVERSARIAL_WEIGHT = 1e-3


def pixel_shuffle(x, r: int):
    """(H, W, r*r*C) -> (r*H, r*W, C), as `tf.nn.depth_to_space`: output[r*h + i, r*w + j, c] =
    input[h, w, (r*i + j)*C + c]."""
    height, width, depth = x.shape[1:]
    channels = depth // (r * r)
    x = layers.Reshape((height, width, r, r, channels))(x)
    x = layers.Permute((1, 3, 2, 4, 5))(x)  # (H, r, W, r, C)
    return layers.Reshape((height * r, width * r, channels))(x)


def _prelu():
    return layers.PReLU(shared_axes=[1, 2])


def srresnet_generator(lr_shape=(7, 7, 1), *, scale: int = 4, filters: int = 64, blocks: int = 16,
                       name="generator") -> keras.Model:
    """The paper's generator: 9x9 conv + PReLU; `blocks` residual blocks (conv-BN-PReLU-conv-BN, and
    the skip); conv-BN and the long skip; one sub-pixel x2 step (conv to 4f, shuffle, PReLU) per
    factor 2 of `scale`; a 9x9 conv to the image's channels, with tanh (images in [-1, 1])."""
    steps = int(np.log2(scale))
    if 2 ** steps != scale or steps < 1:
        raise ValueError(f"scale must be a power of 2 (2, 4, 8); got {scale}.")
    inputs = keras.Input(shape=lr_shape, name="low_resolution")
    x = skip = _prelu()(layers.Conv2D(filters, 9, padding="same")(inputs))
    for _ in range(blocks):
        y = _prelu()(networks.batch_norm_layer()(layers.Conv2D(filters, 3, padding="same")(x)))
        y = networks.batch_norm_layer()(layers.Conv2D(filters, 3, padding="same")(y))
        x = layers.Add()([x, y])
    x = layers.Add()([skip, networks.batch_norm_layer()(layers.Conv2D(filters, 3, padding="same")(x))])
    for _ in range(steps):
        x = _prelu()(pixel_shuffle(layers.Conv2D(4 * filters, 3, padding="same")(x), 2))
    outputs = layers.Conv2D(lr_shape[-1], 9, padding="same", activation="tanh", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def discriminator(hr_shape=(28, 28, 1), *, filters: int = 64, dense: int = 1024, name="discriminator") -> keras.Model:
    """The paper's D: 3x3 convolutions f, f/2, 2f, 2f/2, 4f, 4f/2, 8f, 8f/2 (/2: stride 2), BatchNorm
    after all but the first, LeakyReLU(0.2), then Dense(`dense`), LeakyReLU and Dense(1): a logit."""
    inputs = keras.Input(shape=hr_shape, name="image")
    x = layers.LeakyReLU(0.2)(layers.Conv2D(filters, 3, padding="same")(inputs))
    for i, (mult, stride) in enumerate([(1, 2), (2, 1), (2, 2), (4, 1), (4, 2), (8, 1), (8, 2)]):
        x = layers.Conv2D(filters * mult, 3, strides=stride, padding="same")(x)
        x = layers.LeakyReLU(0.2)(networks.batch_norm_layer()(x))
    x = layers.LeakyReLU(0.2)(layers.Dense(dense)(layers.Flatten()(x)))
    outputs = layers.Dense(1, dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


class SRGAN(Stateful):
    """G, D, the frozen feature network and the combined model; `train_step(lr, hr)` runs one D update
    and one G update and returns D's loss, G's perceptual loss and its two terms (unweighted). With
    `adversarial=False` it is SRResNet: G alone on the pixel-wise MSE (its one loss, g_loss)."""

    def __init__(self, generator: keras.Model, discriminator_net: keras.Model | None = None,
                 features: keras.Model | None = None, *, adversarial: bool = True,
                 adversarial_weight: float = ADVERSARIAL_WEIGHT, real_target: float = 1.0, optimizers=None):
        self.generator, self.discriminator, self.features = generator, discriminator_net, features
        self.adversarial, self.real_target = bool(adversarial), float(real_target)
        self.loss_names = ("d_loss", "g_loss", "content", "adversarial") if self.adversarial else ("g_loss",)
        d_opt, g_opt = optimizers or [keras.optimizers.Adam(1e-4, beta_1=0.9) for _ in range(2)]
        if not self.adversarial:
            generator.compile(optimizer=g_opt, loss="mse")
            g_opt.build(generator.trainable_variables)
            self.combined = generator
            return
        if discriminator_net is None or features is None:
            raise ValueError("SRGAN needs a discriminator and a feature network for its content loss.")
        features.trainable = False
        discriminator_net.trainable = True
        discriminator_net.compile(optimizer=d_opt, loss=keras.losses.BinaryCrossentropy(from_logits=True))
        d_opt.build(discriminator_net.trainable_variables)
        discriminator_net.trainable = False
        lr = keras.Input(shape=tuple(generator.inputs[0].shape[1:]), name="low_resolution")
        sr = generator(lr)
        outputs = [layers.Identity(name="content")(features(sr)), layers.Identity(name="adversarial")(discriminator_net(sr))]
        self.combined = keras.Model(lr, outputs, name="srgan")
        self.combined.compile(optimizer=g_opt, loss=["mse", keras.losses.BinaryCrossentropy(from_logits=True)],
                              loss_weights=[1.0, float(adversarial_weight)])
        g_opt.build(self.combined.trainable_variables)

    def discriminator_step(self, lr: np.ndarray, hr: np.ndarray) -> float:
        """One D update on the real `hr` (target `real_target`) and G(`lr`) (target 0); returns D's loss."""
        lr, hr = np.asarray(lr, np.float32), np.asarray(hr, np.float32)
        n = len(lr)
        sr = keras.ops.convert_to_numpy(self.generator(lr, training=False))
        self.discriminator.trainable = True  # set before every call: see keras_gan/models/gan.py
        targets = np.concatenate([np.full((n, 1), self.real_target), np.zeros((n, 1))]).astype(np.float32)
        return replicas.train_on_batch(self.discriminator, np.concatenate([hr, sr]), targets)

    def targets(self, hr: np.ndarray) -> list:
        """The combined model's targets: the features of the real images, and 1 for D."""
        return [keras.ops.convert_to_numpy(self.features(hr, training=False)), np.ones((len(hr), 1), np.float32)]

    def generator_step(self, lr: np.ndarray, hr: np.ndarray) -> dict[str, float]:
        """One G update: on the perceptual loss with D frozen, or (SRResNet) on the pixel-wise MSE."""
        lr, hr = np.asarray(lr, np.float32), np.asarray(hr, np.float32)
        if not self.adversarial:
            return {"g_loss": replicas.train_on_batch(self.generator, lr, hr)}
        self.discriminator.trainable = False
        logs = replicas.train_on_batch(self.combined, lr, self.targets(hr), return_dict=True)
        return {"g_loss": logs["loss"], "content": logs["content_loss"], "adversarial": logs["adversarial_loss"]}

    def train_step(self, lr: np.ndarray, hr: np.ndarray) -> dict[str, float]:
        d = {"d_loss": self.discriminator_step(lr, hr)} if self.adversarial else {}
        return {**d, **self.generator_step(lr, hr)}

    def exports(self) -> dict:
        """The networks a run folder keeps, by file name (without .keras): D with its sigmoid."""
        if not self.adversarial:
            return {"generator": self.generator}
        return {"generator": self.generator,
                "discriminator": networks.with_output_activation(self.discriminator, "sigmoid")}

    # --- state, for checkpoints (keras_gan/models/state.py) -----------------------------------------
    def _parts(self):
        if not self.adversarial:
            return {"generator": self.generator.variables, "g_optimizer": self.generator.optimizer.variables}
        # the frozen feature network too: a run folder resumes without the file it was read from
        return {"generator": self.generator.variables, "discriminator": self.discriminator.variables,
                "features": self.features.variables, "d_optimizer": self.discriminator.optimizer.variables,
                "g_optimizer": self.combined.optimizer.variables}
