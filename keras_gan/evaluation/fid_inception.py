"""The FID Inception: the network behind the FIDs that papers report, in Keras.

The original FID code (TTUR, Heusel et al. 2017) and TF-GAN take their features from the Inception
graph of 2015-12-05; pytorch-fid, clean-fid and torch-fidelity port that graph. It differs from
Keras's (and torchvision's) InceptionV3: its weights, 1008 logits, average pools that do not count
padding, and a last block (Mixed_7c) that pools by maximum. This is that network, layer for layer as
pytorch-fid's `fid_inception_v3` builds it, with its weights read from pytorch-fid's file
(pt_inception-2015-12-05-6726825d.pth, read without PyTorch by keras_gan/io/torch_files.py).

Images are prepared as the references prepare theirs: quantized to 8 bits (generated images are
written as PNGs before the reference code reads them), grey repeated to three channels, resized to
299x299 bilinearly (half-pixel centres, no antialiasing: PyTorch's `interpolate(mode="bilinear",
align_corners=False)`), and scaled to [-1, 1]. Features are the 2048 activations of the last average
pool; probabilities the softmax of the 1008 logits.

Verified here against pytorch-fid's own network with the same random weights
(tests/evaluation/test_fid_inception.py); the standard weights could not be downloaded here, so the
FIDs through them were not compared with a published number on this machine.
"""

import hashlib
import os

import keras
import numpy as np
from keras import layers, ops

from keras_gan.errors import ConfigError, ModelFileError, reason
from keras_gan.io.torch_files import read_state_dict

WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
               "pt_inception-2015-12-05-6726825d.pth")
WEIGHTS_SHA256_PREFIX = "6726825d"  # torch.hub's convention: the file name carries its hash's first digits
SIZE = 299


def _conv(x, name: str, filters: int, kernel, strides=1, padding="valid"):
    """pytorch-fid's BasicConv2d: a convolution without bias, BatchNorm (eps 0.001) and ReLU."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False, name=f"{name}.conv")(x)
    x = layers.BatchNormalization(epsilon=0.001, name=f"{name}.bn")(x)
    return layers.ReLU()(x)


def _avg_pool(x):
    return layers.AveragePooling2D(3, 1, padding="same")(x)  # "same" does not count the padding


def _block_a(x, name, pool_features):
    b1 = _conv(x, f"{name}.branch1x1", 64, 1)
    b5 = _conv(_conv(x, f"{name}.branch5x5_1", 48, 1), f"{name}.branch5x5_2", 64, 5, padding="same")
    b3 = _conv(x, f"{name}.branch3x3dbl_1", 64, 1)
    b3 = _conv(_conv(b3, f"{name}.branch3x3dbl_2", 96, 3, padding="same"), f"{name}.branch3x3dbl_3", 96, 3,
               padding="same")
    bp = _conv(_avg_pool(x), f"{name}.branch_pool", pool_features, 1)
    return layers.Concatenate()([b1, b5, b3, bp])


def _block_b(x, name):
    b3 = _conv(x, f"{name}.branch3x3", 384, 3, strides=2)
    bd = _conv(x, f"{name}.branch3x3dbl_1", 64, 1)
    bd = _conv(_conv(bd, f"{name}.branch3x3dbl_2", 96, 3, padding="same"), f"{name}.branch3x3dbl_3", 96, 3,
               strides=2)
    return layers.Concatenate()([b3, bd, layers.MaxPooling2D(3, 2)(x)])


def _block_c(x, name, c7):
    b1 = _conv(x, f"{name}.branch1x1", 192, 1)
    b7 = _conv(x, f"{name}.branch7x7_1", c7, 1)
    b7 = _conv(b7, f"{name}.branch7x7_2", c7, (1, 7), padding="same")
    b7 = _conv(b7, f"{name}.branch7x7_3", 192, (7, 1), padding="same")
    bd = _conv(x, f"{name}.branch7x7dbl_1", c7, 1)
    for i, (filters, kernel) in enumerate([(c7, (7, 1)), (c7, (1, 7)), (c7, (7, 1)), (192, (1, 7))], start=2):
        bd = _conv(bd, f"{name}.branch7x7dbl_{i}", filters, kernel, padding="same")
    bp = _conv(_avg_pool(x), f"{name}.branch_pool", 192, 1)
    return layers.Concatenate()([b1, b7, bd, bp])


def _block_d(x, name):
    b3 = _conv(_conv(x, f"{name}.branch3x3_1", 192, 1), f"{name}.branch3x3_2", 320, 3, strides=2)
    b7 = _conv(x, f"{name}.branch7x7x3_1", 192, 1)
    b7 = _conv(b7, f"{name}.branch7x7x3_2", 192, (1, 7), padding="same")
    b7 = _conv(b7, f"{name}.branch7x7x3_3", 192, (7, 1), padding="same")
    b7 = _conv(b7, f"{name}.branch7x7x3_4", 192, 3, strides=2)
    return layers.Concatenate()([b3, b7, layers.MaxPooling2D(3, 2)(x)])


def _block_e(x, name, max_pool: bool):
    b1 = _conv(x, f"{name}.branch1x1", 320, 1)
    b3 = _conv(x, f"{name}.branch3x3_1", 384, 1)
    b3 = layers.Concatenate()([_conv(b3, f"{name}.branch3x3_2a", 384, (1, 3), padding="same"),
                               _conv(b3, f"{name}.branch3x3_2b", 384, (3, 1), padding="same")])
    bd = _conv(_conv(x, f"{name}.branch3x3dbl_1", 448, 1), f"{name}.branch3x3dbl_2", 384, 3, padding="same")
    bd = layers.Concatenate()([_conv(bd, f"{name}.branch3x3dbl_3a", 384, (1, 3), padding="same"),
                               _conv(bd, f"{name}.branch3x3dbl_3b", 384, (3, 1), padding="same")])
    pooled = layers.MaxPooling2D(3, 1, padding="same")(x) if max_pool else _avg_pool(x)  # the FID blocks' one change
    bp = _conv(pooled, f"{name}.branch_pool", 192, 1)
    return layers.Concatenate()([b1, b3, bd, bp])


def build() -> keras.Model:
    """The FID Inception on 299x299x3 inputs in [-1, 1]: outputs (2048 pool features, 1008 logits)."""
    image = keras.Input((SIZE, SIZE, 3), name="image")
    x = _conv(image, "Conv2d_1a_3x3", 32, 3, strides=2)
    x = _conv(x, "Conv2d_2a_3x3", 32, 3)
    x = _conv(x, "Conv2d_2b_3x3", 64, 3, padding="same")
    x = layers.MaxPooling2D(3, 2)(x)
    x = _conv(x, "Conv2d_3b_1x1", 80, 1)
    x = _conv(x, "Conv2d_4a_3x3", 192, 3)
    x = layers.MaxPooling2D(3, 2)(x)
    for name, pool_features in (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)):
        x = _block_a(x, name, pool_features)
    x = _block_b(x, "Mixed_6a")
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        x = _block_c(x, name, c7)
    x = _block_d(x, "Mixed_7a")
    x = _block_e(x, "Mixed_7b", max_pool=False)
    x = _block_e(x, "Mixed_7c", max_pool=True)
    features = layers.GlobalAveragePooling2D(name="pool")(x)
    logits = layers.Dense(1008, name="fc")(features)
    return keras.Model(image, [features, logits], name="fid_inception")


def load_weights(model: keras.Model, state: dict) -> None:
    """Sets `model`'s weights from pytorch-fid's state dict (names as in torchvision's Inception3;
    convolution kernels (out, in, h, w) become (h, w, in, out), the dense kernel is transposed)."""
    used = set()

    def take(key):
        if key not in state:
            raise KeyError(key)
        used.add(key)
        return np.asarray(state[key], np.float32)

    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            layer.set_weights([take(f"{layer.name}.weight").transpose(2, 3, 1, 0)])
        elif isinstance(layer, layers.BatchNormalization):
            layer.set_weights([take(f"{layer.name}.{k}") for k in ("weight", "bias", "running_mean", "running_var")])
        elif isinstance(layer, layers.Dense):
            layer.set_weights([take("fc.weight").T, take("fc.bias")])
    unused = sorted(k for k in state if k not in used and not k.endswith("num_batches_tracked"))
    if unused:
        raise KeyError(f"{len(unused)} weights the FID Inception has no place for, such as {unused[0]}")


def prepare(images):
    """Images in [-1, 1], (n, H, W, C), as the reference code feeds them: 8-bit, three channels,
    299x299 bilinear (half-pixel centres, no antialiasing), in [-1, 1]."""
    x = ops.convert_to_tensor(images, "float32")
    x = ops.round(ops.clip((x + 1.0) * 127.5, 0.0, 255.0)) / 255.0  # the PNG a reference reads
    if x.shape[-1] == 1:
        x = ops.repeat(x, 3, axis=-1)
    x = ops.image.resize(x, (SIZE, SIZE), interpolation="bilinear", antialias=False)
    return 2.0 * x - 1.0


def weights_file(path: str) -> str:
    """`path`, or with "download" pytorch-fid's file fetched once into Keras's cache and checked
    against the SHA-256 digits its name carries."""
    if path != "download":
        if not os.path.isfile(path):
            raise ConfigError(f"--fid_weights={path}: file not found. It should be pytorch-fid's "
                              f"{os.path.basename(WEIGHTS_URL)} ({WEIGHTS_URL}), or say --fid_weights=download.")
        return path
    try:
        path = keras.utils.get_file(os.path.basename(WEIGHTS_URL), WEIGHTS_URL, cache_subdir="models")
    except Exception as e:  # no network: get_file raises several types
        raise ConfigError(f"cannot download the FID Inception's weights from {WEIGHTS_URL} ({reason(e)}); "
                          "fetch the file elsewhere and pass --fid_weights=PATH.") from None
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if not digest.startswith(WEIGHTS_SHA256_PREFIX):
        os.remove(path)
        raise ModelFileError(f"the downloaded {os.path.basename(path)} has SHA-256 {digest[:12]}..., not "
                             f"{WEIGHTS_SHA256_PREFIX}...: removed; try again.")
    return path


def network(path: str) -> keras.Model:
    """The FID Inception with the weights of pytorch-fid's file at `path` (or "download")."""
    path = weights_file(path)
    try:
        state = read_state_dict(path)
    except Exception as e:  # a damaged or foreign file: pickle, zipfile and NumPy raise many types
        raise ModelFileError(f"--fid_weights={path} is not a PyTorch weights file ({reason(e)}).") from None
    model = build()
    try:
        load_weights(model, state)
    except (KeyError, ValueError) as e:
        raise ModelFileError(f"--fid_weights={path} does not hold the FID Inception's weights ({reason(e)}); "
                             f"it should be pytorch-fid's {os.path.basename(WEIGHTS_URL)}.") from None
    return model
