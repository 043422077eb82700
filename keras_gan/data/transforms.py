"""Image transforms of uint8 or [-1, 1] images (N, H, W, C): the edge filter of CycleGAN's domain A,
the box filter that makes SRGAN's inputs, the upsamplings shown beside them, and a Gaussian blur."""

import keras
import numpy as np

from keras_gan.errors import ConfigError


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
    """Bicubic upsampling by `scale` (Keras's, which is tf.image.resize's on TensorFlow), clipped to
    [-1, 1]: super-resolution's baseline."""
    images = np.asarray(images, np.float32)
    size = (images.shape[1] * scale, images.shape[2] * scale)
    resized = keras.ops.image.resize(images, size, interpolation="bicubic", antialias=False)
    return np.clip(keras.ops.convert_to_numpy(resized), -1.0, 1.0)


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
