"""Metrics of paired images: an output against its ground truth (image-to-image translation and
super-resolution, where the test split has the true image of every input).

These are not in the registry (keras_gan/metrics/registry.py): the registry's metrics compare two
unpaired sets of images, these compare images one to one. All take images in [-1, 1], (N, H, W, C),
and measure them on pixels in [0, 1]:

    l1         mean absolute difference
    psnr       10 log10(1 / MSE) per image, in dB, averaged over images (TensorFlow's tf.image.psnr)
    ssim       structural similarity per image, averaged (tf.image.ssim: Gaussian window of 11 pixels,
               sigma 1.5, or the image's side where that is smaller)
    sharpness  the outputs' root-mean-square gradient over the truth's: 1 is as much edge and texture
               as the true images have, below 1 is blurrier, above 1 is noisier or more contrasted.
               (Squared, not absolute, differences: blurring a monotone edge keeps the sum of its
               absolute differences, its total rise, but spreads it over more pixels, and so lowers
               the sum of their squares.)
"""

import numpy as np
import tensorflow as tf

from keras_gan.metrics.checks import check_finite

CHUNK = 1024  # images per TensorFlow call


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
    psnr, ssim = [], []
    for i in range(0, len(o), CHUNK):
        a, b = tf.constant(o[i:i + CHUNK]), tf.constant(t[i:i + CHUNK])
        psnr.append(tf.image.psnr(a, b, max_val=1.0).numpy())
        ssim.append(tf.image.ssim(a, b, max_val=1.0, filter_size=window).numpy())
    return {"l1": float(np.abs(o - t).mean()), "psnr": float(np.concatenate(psnr).mean()),
            "ssim": float(np.concatenate(ssim).mean()),
            "sharpness": float(np.sqrt(_energy(o).mean() / max(_energy(t).mean(), 1e-12)))}
