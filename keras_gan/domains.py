"""The image-to-image tasks' data, made from a dataset the package already reads (keras_gan/data.py).

* Edges <-> images, CycleGAN's demo (the classic edges2shoes task, offline): the dataset's images of
  `DOMAIN_CLASSES` (Fashion-MNIST's three kinds of footwear: sandal, sneaker, ankle boot; every
  class of other datasets) are split, with a fixed seed, into two disjoint halves. Domain A is the
  edge map (`edges`, a fixed filter) of the first half, domain B the second half itself, so the two
  training sets are unpaired. The test split's images give pairs with ground truth: A = edges(x),
  B = x.
* Low -> high resolution, SRGAN's demo: the dataset's images are the high-resolution ones, and
  `downsample` (a box filter, `scale` x `scale` blocks averaged) makes the low-resolution inputs.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_gan.errors import ConfigError

DOMAIN_CLASSES = {"fashion_mnist": (5, 7, 9)}  # sandal, sneaker, ankle boot
SPLIT_SEED = 0x5E6  # the halves are the same for every run of a dataset, whatever its --seed


def edges(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W, C) -> their edge maps, uint8 of the same shape: dark lines on white, as
    the edges2shoes pictures. The filter: Sobel gradient magnitude of the luminance (pixels in [0, 1],
    zero padding), `255 * (1 - min(1, magnitude / 2))` in every channel."""
    x = np.asarray(images, np.float32) / 255.0
    luminance = x.mean(axis=-1) if x.shape[-1] == 1 else x @ np.array([0.299, 0.587, 0.114], np.float32)
    p = np.pad(luminance, ((0, 0), (1, 1), (1, 1)))
    h, w = luminance.shape[1:]

    def at(dy, dx):
        return p[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]

    gx = (at(-1, 1) + 2 * at(0, 1) + at(1, 1)) - (at(-1, -1) + 2 * at(0, -1) + at(1, -1))
    gy = (at(1, -1) + 2 * at(1, 0) + at(1, 1)) - (at(-1, -1) + 2 * at(-1, 0) + at(-1, 1))
    line = np.minimum(1.0, np.hypot(gx, gy) / 2.0)
    out = np.rint(255.0 * (1.0 - line)).astype(np.uint8)
    return np.repeat(out[..., None], x.shape[-1], axis=-1)


@dataclasses.dataclass(frozen=True)
class Domains:
    """uint8 images of the two domains: unpaired training halves, and paired test images."""

    a_train: np.ndarray   # edge maps of the first half
    b_train: np.ndarray   # the second half's images
    a_test: np.ndarray    # edge maps of the test images
    b_test: np.ndarray    # the test images: the ground truth of a_test's translations

    def describe(self) -> str:
        return (f"{len(self.a_train)} edge maps (A) and {len(self.b_train)} other images (B), unpaired; "
                f"{len(self.a_test)} test pairs")


def edges_and_images(arrays, dataset: str) -> Domains:
    """The edges <-> images task of `arrays` (keras_gan.data.Arrays of `dataset`)."""
    classes = DOMAIN_CLASSES.get(dataset)

    def pick(x, y):
        return x if classes is None else x[np.isin(y, classes)]

    train, test = pick(arrays.x_train, arrays.y_train), pick(arrays.x_test, arrays.y_test)
    if len(train) < 2 or len(test) < 1:
        raise ConfigError(f"{dataset} has {len(train)} training and {len(test)} test images of classes "
                          f"{classes}: too few for two domains.")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(train))
    half = len(train) // 2
    return Domains(a_train=edges(train[order[:half]]), b_train=train[order[half:2 * half]],
                   a_test=edges(test), b_test=test)


def downsample(images: np.ndarray, scale: int = 4) -> np.ndarray:
    """The low-resolution inputs: each scale x scale block of pixels averaged (box filter), float32."""
    images = np.asarray(images, np.float32)
    n, h, w, c = images.shape
    if h % scale or w % scale:
        raise ConfigError(f"images of {h}x{w} do not divide into {scale}x{scale} blocks; choose a --scale that "
                          f"divides both.")
    return images.reshape(n, h // scale, scale, w // scale, scale, c).mean(axis=(2, 4))


def upsample_nearest(images: np.ndarray, scale: int) -> np.ndarray:
    """Each pixel repeated scale x scale times: how a low-resolution input is shown beside its output."""
    return np.repeat(np.repeat(np.asarray(images), scale, axis=1), scale, axis=2)


def upsample_bicubic(images: np.ndarray, scale: int) -> np.ndarray:
    """Bicubic upsampling by `scale` (TensorFlow's), clipped to [-1, 1]: super-resolution's baseline."""
    images = np.asarray(images, np.float32)
    size = (images.shape[1] * scale, images.shape[2] * scale)
    return np.clip(tf.image.resize(images, size, method="bicubic").numpy(), -1.0, 1.0)


def blur(images: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """A Gaussian blur of images (N, H, W, C), float32, separable, 3 sigma each side, edge pixels repeated:
    the blurred edge map that CycleGAN's translations are compared with."""
    radius = max(1, int(np.ceil(3 * sigma)))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    x = np.asarray(images, np.float32)
    for axis in (1, 2):
        pad = [(0, 0)] * 4
        pad[axis] = (radius, radius)
        padded = np.pad(x, pad, mode="edge")
        n = x.shape[axis]
        x = sum(w * np.take(padded, np.arange(i, i + n), axis=axis) for i, w in enumerate(kernel))
    return x
