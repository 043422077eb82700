"""Metrics of paired images: an output against its ground truth (image-to-image translation and
super-resolution, where the test split has the true image of every input).

These are not in the registry (keras_gan/metrics/registry.py): the registry's metrics compare two
unpaired sets of images, these compare images one to one. All take images in [-1, 1], (N, H, W, C),
and measure them on pixels in [0, 1]:

    l1         mean absolute difference
    psnr       10 log10(1 / MSE) per image, in dB, averaged over images (as TensorFlow's tf.image.psnr)
    ssim       structural similarity per image, averaged (as tf.image.ssim: a Gaussian window of 11
               pixels, sigma 1.5, or the image's side where that is smaller, over the positions where
               it fits; K1 0.01, K2 0.03; the mean over pixels and channels)
    sharpness  the outputs' root-mean-square gradient over the truth's: 1 is as much edge and texture
               as the true images have, below 1 is blurrier, above 1 is noisier or more contrasted.
               (Squared, not absolute, differences: blurring a monotone edge keeps the sum of its
               absolute differences, its total rise, but spreads it over more pixels, and so lowers
               the sum of their squares.)
"""

import numpy as np

from keras_gan.metrics.checks import check_finite

CHUNK = 256  # images per NumPy call: SSIM's window sums hold 121 values per pixel of a chunk
K1, K2, SIGMA = 0.01, 0.03, 1.5


def _unit(images) -> np.ndarray:
    return np.clip((np.asarray(images, np.float32) + 1.0) / 2.0, 0.0, 1.0)


def gradient_energy(images) -> np.ndarray:
    """Per image, the mean of dx^2 + dy^2 over its pixels' forward differences (pixels in [0, 1])."""
    return _energy(_unit(images))


def _energy(x: np.ndarray) -> np.ndarray:
    dx, dy = x[:, :-1, 1:] - x[:, :-1, :-1], x[:, 1:, :-1] - x[:, :-1, :-1]
    return (dx ** 2 + dy ** 2).mean(axis=(1, 2, 3))


def l1(outputs, truth) -> float:
    """The mean absolute difference of two sets of images in [-1, 1], on pixels in [0, 1]."""
    return float(np.abs(_unit(outputs) - _unit(truth)).mean())


def paired_scores(outputs, truth) -> dict[str, float]:
    """l1, psnr, ssim and sharpness of `outputs` against `truth` (same shape); see the module's docstring."""
    outputs, truth = np.asarray(outputs), np.asarray(truth)
    if outputs.shape != truth.shape or outputs.ndim != 4:
        raise ValueError(f"paired images must have one shape (N, H, W, C); got {outputs.shape} and {truth.shape}")
    check_finite(truth, "real images")
    check_finite(outputs, "generated images")
    o, t = _unit(outputs), _unit(truth)
    window = min(11, o.shape[1], o.shape[2])
    chunks = range(0, len(o), CHUNK)
    return {"l1": float(np.abs(o - t).mean()),
            "psnr": float(np.concatenate([psnr(o[i:i + CHUNK], t[i:i + CHUNK]) for i in chunks]).mean()),
            "ssim": float(np.concatenate([ssim(o[i:i + CHUNK], t[i:i + CHUNK], window) for i in chunks]).mean()),
            "sharpness": float(np.sqrt(_energy(o).mean() / max(_energy(t).mean(), 1e-12)))}


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per image, 10 log10(1 / MSE) in dB of two sets of images with pixels in [0, 1] (infinite for equal ones)."""
    mse = ((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2).mean(axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return -10.0 * np.log10(mse)


def gaussian_window(size: int, sigma: float = SIGMA) -> np.ndarray:
    """The normalised 1-D Gaussian of `size` taps: SSIM's window is its outer product with itself."""
    g = np.exp(-0.5 * ((np.arange(size) - (size - 1) / 2.0) / sigma) ** 2)
    return g / g.sum()


def _window_means(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The Gaussian-weighted mean of `x` (N, H, W, C) over each position where the window fits."""
    size = len(g)
    rows = np.lib.stride_tricks.sliding_window_view(x, size, axis=1) @ g        # (N, H-s+1, W, C)
    return np.lib.stride_tricks.sliding_window_view(rows, size, axis=2) @ g     # (N, H-s+1, W-s+1, C)


def ssim(a: np.ndarray, b: np.ndarray, window: int = 11) -> np.ndarray:
    """Per image, the structural similarity of two sets of images with pixels in [0, 1] (Wang et al.
    2004, as tf.image.ssim computes it: see the module's docstring), in float64."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    g = gaussian_window(window)
    c1, c2 = K1 ** 2, K2 ** 2
    mu_a, mu_b = _window_means(a, g), _window_means(b, g)
    var_a = _window_means(a * a, g) - mu_a ** 2
    var_b = _window_means(b * b, g) - mu_b ** 2
    cov = _window_means(a * b, g) - mu_a * mu_b
    luminance = (2 * mu_a * mu_b + c1) / (mu_a ** 2 + mu_b ** 2 + c1)
    structure = (2 * cov + c2) / (var_a + var_b + c2)
    return (luminance * structure).mean(axis=(1, 2, 3))
