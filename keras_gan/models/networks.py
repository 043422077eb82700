"""Generator and discriminator builders.

The vanilla pair is the Keras slide deck's (seeds/003) layer for layer: a Sequential
Dense/LeakyReLU(0.2) generator 256-512-1024 with a tanh output, and a Sequential discriminator
1024-512-256 with Dropout(0.3) and RandomNormal(stddev=0.02) on its first kernel. For 28x28x1
images and 10-dimensional noise they have 1,463,312 and 1,460,225 parameters. Images travel flat
(784 values for MNIST), as in the deck. Every layer is Keras's own, as the slides write them.

The deck's discriminator ends in `Dense(1, activation='sigmoid')`. Here D's last layer is linear by
default (`output_activation=None`): the cross-entropy losses take its logits (keras_gan/models/losses.py
says why), and `with_output_activation` makes the copy that is exported as discriminator.keras,
with the sigmoid back on its last layer, so that file is the deck's D.

The same two dense builders make the seeds' other multilayer perceptrons (ReLU, BatchNorm, no
dropout, a linear critic output). Conditioning is one optional argument, `num_classes`: the model
then takes `[x, one_hot_label]` and is a functional model around the same layers (Mirza & Osindero
2014). The convolutional pair is DCGAN as seeds/004's code shows it (Radford et al. 2016); the
paper's pair (`build_dcgan_paper_*`) is the 64x64 colour DCGAN of seeds/004's figure, its depth
taken from the image size.
"""

import contextlib
import math
import random

import keras
from keras import layers

from keras_gan import backend


def batch_norm_layer(momentum: float = 0.99):
    """BatchNorm; synchronized across replicas when built under a tf.distribute strategy of several,
    so that it normalises with the global batch's statistics, as on one device."""
    return layers.BatchNormalization(momentum=momentum,
                                     synchronized=backend.num_replicas() > 1)


def dropout_layer(rate: float):
    """Keras's Dropout, given the seed that it would draw for itself (from Python's `random`, which
    keras.utils.set_random_seed seeds): the same masks on TensorFlow and JAX as an unseeded layer's, and
    on PyTorch masks from the layer's own seed state, which the checkpoint holds, instead of torch's
    global generator, from which Keras draws an unseeded Dropout's masks there; so a run resumes bit for
    bit on PyTorch too."""
    return layers.Dropout(rate, seed=random.randint(1, int(1e9)))


def _activation(name: str, alpha: float):
    if name == "leaky_relu":
        return layers.LeakyReLU(negative_slope=alpha)
    if name == "relu":
        return layers.ReLU()
    raise ValueError(f"unknown activation {name!r}; use leaky_relu or relu")


def _dense_block(n, *, activation, alpha, batch_norm=False, bn_momentum=0.8, dropout=0.0, init="glorot_uniform"):
    block = [layers.Dense(n, kernel_initializer=init)]
    if batch_norm:  # between the layer and its activation, as seeds/004's code
        block.append(batch_norm_layer(bn_momentum))
    block.append(_activation(activation, alpha))
    if dropout:
        block.append(dropout_layer(dropout))
    return block


def _assemble(inputs, body, name):
    """A Sequential model for one input; a functional model over concat(inputs) for two."""
    if len(inputs) == 1:
        return keras.Sequential([inputs[0], *body], name=name)
    x = layers.Concatenate(name="concat_condition")(list(inputs))
    for layer in body:
        x = layer(x)
    return keras.Model(inputs, x, name=name)


def build_generator(noise_dim: int = 10, image_shape=(28, 28, 1), *, units=(256, 512, 1024),
                    activation: str = "leaky_relu", alpha: float = 0.2, batch_norm: bool = False,
                    bn_momentum: float = 0.8, dropout: float = 0.0, num_classes: int | None = None,
                    branches: tuple[int, int] | None = None, name: str = "generator") -> keras.Model:
    """Noise (noise_dim,) [and a one-hot label] to a flat image in [-1, 1] of prod(image_shape) values.

    `batch_norm` puts BatchNorm after every hidden activation but the first (seeds/004's
    `block(latent_dim, 128, normalize=False)`). `dropout` follows every hidden layer, never the
    output. `branches=(nz, ny)` is the cGAN paper's layout (z -> nz and y -> ny units, ReLU, then
    concatenated) instead of concatenating z and y first.
    """
    noise = keras.Input(shape=(noise_dim,), name="noise")
    inputs = [noise] if num_classes is None else [noise, keras.Input(shape=(num_classes,), name="label")]
    body = []
    for i, n in enumerate(units):
        body += _dense_block(n, activation=activation, alpha=alpha, batch_norm=batch_norm and i > 0,
                             bn_momentum=bn_momentum, dropout=dropout)
    body.append(layers.Dense(math.prod(image_shape), activation="tanh"))
    if branches is None:
        return _assemble(inputs, body, name)
    if num_classes is None:
        raise ValueError("branches=(nz, ny) needs num_classes")
    z = layers.Dense(branches[0], activation="relu", name="noise_branch")(inputs[0])
    y = layers.Dense(branches[1], activation="relu", name="label_branch")(inputs[1])
    x = layers.Concatenate(name="concat_branches")([z, y])
    if dropout:
        x = dropout_layer(dropout)(x)
    for layer in body:
        x = layer(x)
    return keras.Model(inputs, x, name=name)


def build_discriminator(image_shape=(28, 28, 1), *, units=(1024, 512, 256), alpha: float = 0.2,
                        dropout: float = 0.3, first_init="deck", output_activation: str | None = None,
                        num_classes: int | None = None, name: str = "discriminator") -> keras.Model:
    """A flat image [and a one-hot label] to a score: a logit, a least-squares score or a
    Wasserstein critic's value (`output_activation="sigmoid"` makes it the deck's probability).

    `first_init="deck"` is the slide deck's RandomNormal(stddev=0.02) on the first kernel.
    """
    image = keras.Input(shape=(math.prod(image_shape),), name="image")
    inputs = [image] if num_classes is None else [image, keras.Input(shape=(num_classes,), name="label")]
    body = []
    for i, n in enumerate(units):
        init = keras.initializers.RandomNormal(stddev=0.02) if i == 0 and first_init == "deck" else "glorot_uniform"
        body += _dense_block(n, activation="leaky_relu", alpha=alpha, dropout=dropout, init=init)
    body.append(layers.Dense(1, activation=output_activation, dtype="float32"))  # scores in float32, always
    return _assemble(inputs, body, name)


def _conv_init():
    return keras.initializers.RandomNormal(stddev=0.02)  # Radford et al. 2016, section 4


def build_dcgan_generator(noise_dim: int = 100, image_shape=(28, 28, 1), *, filters: int = 128,
                          alpha: float = 0.2, bn_momentum: float = 0.8, name: str = "generator") -> keras.Sequential:
    """DCGAN generator as seeds/004: project z to (s/4, s/4, filters), BatchNorm, then twice
    upsample + 3x3 conv + BatchNorm + LeakyReLU(0.2) (filters, then filters/2), and a 3x3 conv to
    the image's channels with tanh. Outputs (H, W, C) images; H and W must be multiples of 4."""
    h, w, c = image_shape
    if h % 4 or w % 4:
        raise ValueError(f"the DCGAN generator needs a height and width divisible by 4. Received: {image_shape}")
    return keras.Sequential([
        keras.Input(shape=(noise_dim,), name="noise"),
        layers.Dense((h // 4) * (w // 4) * filters, kernel_initializer=_conv_init()),
        layers.Reshape((h // 4, w // 4, filters)),
        batch_norm_layer(bn_momentum),
        layers.UpSampling2D(),
        layers.Conv2D(filters, 3, padding="same", kernel_initializer=_conv_init()),
        batch_norm_layer(bn_momentum),
        layers.LeakyReLU(negative_slope=alpha),
        layers.UpSampling2D(),
        layers.Conv2D(filters // 2, 3, padding="same", kernel_initializer=_conv_init()),
        batch_norm_layer(bn_momentum),
        layers.LeakyReLU(negative_slope=alpha),
        layers.Conv2D(c, 3, padding="same", activation="tanh", kernel_initializer=_conv_init()),
    ], name=name)


def build_dcgan_discriminator(image_shape=(28, 28, 1), *, filters=(16, 32, 64, 128), alpha: float = 0.2,
                              dropout: float = 0.25, bn_momentum: float = 0.8,
                              output_activation: str | None = None,
                              name: str = "discriminator") -> keras.Sequential:
    """DCGAN discriminator as seeds/004: blocks of 3x3 stride-2 conv, LeakyReLU(0.2),
    channel dropout (Dropout2d) and BatchNorm (not in the first block), then a dense output."""
    model = keras.Sequential([keras.Input(shape=tuple(image_shape), name="image")], name=name)
    for i, f in enumerate(filters):
        model.add(layers.Conv2D(f, 3, strides=2, padding="same", kernel_initializer=_conv_init()))
        model.add(layers.LeakyReLU(negative_slope=alpha))
        model.add(layers.SpatialDropout2D(dropout))
        if i > 0:
            model.add(batch_norm_layer(bn_momentum))
    model.add(layers.Flatten())
    model.add(layers.Dense(1, activation=output_activation, dtype="float32"))  # scores in float32, always
    return model


def paper_depth(image_shape) -> int:
    """How many times the paper's DCGAN doubles 4x4 to reach `image_shape` (4 for 64x64), or a ValueError."""
    h, w, _ = image_shape
    doublings = int(math.log2(h // 4)) if h >= 8 and h % 4 == 0 else 0
    if h != w or doublings < 1 or 4 * 2 ** doublings != h:
        raise ValueError(f"the paper's DCGAN doubles 4x4 images to square ones of side 8, 16, 32, 64, 128 ...; "
                         f"images of {h}x{w} are not one of those. Received: {tuple(image_shape)}")
    return doublings


def build_dcgan_paper_generator(noise_dim: int = 100, image_shape=(64, 64, 3), *, filters: int = 128,
                                bn_momentum: float = 0.9, name: str = "generator") -> keras.Sequential:
    """The DCGAN generator of Radford et al. 2016 as seeds/004 draws it: z projected to
    4x4x(filters * 2^(d-1)) (4x4x1024 for 64x64 images and 128 filters), then d 4x4 stride-2
    transposed convolutions that double the side and halve the filters (512, 256, 128), the last to
    the image's channels; BatchNorm and ReLU after every layer but the last, tanh there. The depth d
    comes from the image size (4 for 64x64). No biases before BatchNorm; N(0, 0.02) weights."""
    doublings = paper_depth(image_shape)
    width = filters * 2 ** (doublings - 1)
    model = keras.Sequential([keras.Input(shape=(noise_dim,), name="noise"),
                              layers.Dense(4 * 4 * width, use_bias=False, kernel_initializer=_conv_init()),
                              layers.Reshape((4, 4, width)),
                              batch_norm_layer(bn_momentum), layers.ReLU()], name=name)
    for _ in range(doublings - 1):
        width //= 2
        model.add(layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                                         kernel_initializer=_conv_init()))
        model.add(batch_norm_layer(bn_momentum))
        model.add(layers.ReLU())
    model.add(layers.Conv2DTranspose(image_shape[-1], 4, strides=2, padding="same", activation="tanh",
                                     kernel_initializer=_conv_init()))
    return model


def build_dcgan_paper_discriminator(image_shape=(64, 64, 3), *, filters: int = 128, alpha: float = 0.2,
                                    bn_momentum: float = 0.9, output_activation: str | None = None,
                                    name: str = "discriminator") -> keras.Sequential:
    """The paper's DCGAN discriminator, G mirrored: d 4x4 stride-2 convolutions from `filters`,
    doubling (128, 256, 512, 1024 for 64x64 images) down to 4x4, LeakyReLU(0.2) after each and
    BatchNorm after every one but the first; then a dense score. N(0, 0.02) weights."""
    doublings = paper_depth(image_shape)
    model = keras.Sequential([keras.Input(shape=tuple(image_shape), name="image")], name=name)
    for i in range(doublings):
        model.add(layers.Conv2D(filters * 2 ** i, 4, strides=2, padding="same", use_bias=i == 0,
                                kernel_initializer=_conv_init()))
        if i > 0:
            model.add(batch_norm_layer(bn_momentum))
        model.add(layers.LeakyReLU(negative_slope=alpha))
    model.add(layers.Flatten())
    model.add(layers.Dense(1, activation=output_activation, kernel_initializer=_conv_init(),
                           dtype="float32"))  # scores in float32, always
    return model


@contextlib.contextmanager
def dtype_policy(policy: str):
    """Layers made inside take the Keras dtype policy `policy` (float32, mixed_bfloat16 or
    mixed_float16: variables in float32, computations in the second type)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def is_plain(model: keras.Model) -> bool:
    """Whether `model` can be saved as it is: uncompiled and in float32 throughout."""
    return not getattr(model, "compiled", False) and all(
        getattr(layer, "dtype_policy", None) is None or layer.dtype_policy.name == "float32"
        for layer in model._flatten_layers(include_self=True))


def uncompiled_copy(model: keras.Model) -> keras.Model:
    """A new model of `model`'s architecture and weights without its compile state (optimizer, loss),
    which a saved file would otherwise name (a compiled loss may be this package's class, which Keras
    alone cannot load). Every layer of the copy computes in float32: a generator trained in mixed
    precision is saved as one that loads and samples in float32 (its variables were float32 all along)."""
    return _rebuilt(model, _portable(model.get_config()))


def _portable(config):
    """`config` with every dtype policy replaced by float32."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy" and isinstance(config.get("config"), dict):
            return {**config, "config": {**config["config"], "name": "float32"}}
        return {k: _portable(v) for k, v in config.items()}
    if isinstance(config, list):
        return [_portable(v) for v in config]
    return config


def with_output_activation(model: keras.Model, activation: str | None) -> keras.Model:
    """An uncompiled copy of `model` whose last layer applies `activation` (the exported
    discriminator: its logit layer with the deck's sigmoid on it)."""
    config = model.get_config()
    last = model.layers[-1].name
    layer = next(entry for entry in config["layers"] if entry["config"].get("name") == last)
    if "activation" not in layer["config"]:
        raise ValueError(f"the last layer of {model.name} ({last}) has no activation to set")
    layer["config"]["activation"] = activation or "linear"
    return _rebuilt(model, _portable(config))


def _rebuilt(model: keras.Model, config: dict) -> keras.Model:
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy
