"""PSNR and SSIM in NumPy (keras_gan/metrics/paired.py), so they need no TensorFlow: against their
closed forms, and against tf.image.psnr and tf.image.ssim, the reference they follow, on real
photographs and their degraded copies; the bicubic baseline through keras.ops against tf.image.resize."""

import numpy as np
import pytest
import tensorflow as tf
from keras_gan.data import transforms
from keras_gan.metrics import paired

from tests.conftest import photo


def test_closed_forms():
    rng = np.random.default_rng(0)
    x = rng.random((3, 16, 16, 3))
    assert np.allclose(paired.ssim(x, x), 1.0) and np.all(np.isinf(paired.psnr(x, x)))
    # a uniform error of 0.1 everywhere: MSE 0.01, so 20 dB
    assert np.allclose(paired.psnr(x, x + 0.1), 20.0)
    # two flat images a and b: no variance, so SSIM is the luminance term alone
    a, b = np.full((1, 11, 11, 1), 0.2), np.full((1, 11, 11, 1), 0.6)
    c1 = paired.K1 ** 2
    assert paired.ssim(a, b)[0] == pytest.approx((2 * 0.2 * 0.6 + c1) / (0.2 ** 2 + 0.6 ** 2 + c1))
    assert np.isclose(paired.gaussian_window(11).sum(), 1.0) and paired.gaussian_window(11).argmax() == 5


@pytest.mark.parametrize("side, window", [(64, 11), (8, 8)])
def test_psnr_and_ssim_are_tensorflows(side, window):
    picture = photo("astronaut")[:side * 4:4, :side * 4:4] / 255.0   # a real photograph, 64x64 or 8x8
    truth = np.stack([picture, picture[::-1], picture[:, ::-1]]).astype(np.float32)
    noisy = np.clip(truth + np.random.default_rng(1).normal(0, 0.05, truth.shape), 0, 1).astype(np.float32)
    blurred = ((truth + np.roll(truth, 1, axis=1) + np.roll(truth, 1, axis=2)) / 3).astype(np.float32)
    for degraded in (noisy, blurred):
        reference = tf.image.ssim(degraded, truth, max_val=1.0, filter_size=window).numpy()
        np.testing.assert_allclose(paired.ssim(degraded, truth, window), reference, atol=1e-5)
        np.testing.assert_allclose(paired.psnr(degraded, truth), tf.image.psnr(degraded, truth, max_val=1.0).numpy(),
                                   atol=1e-4)
    scores = paired.paired_scores(noisy * 2 - 1, truth * 2 - 1)
    assert scores["ssim"] == pytest.approx(tf.image.ssim(noisy, truth, 1.0, filter_size=window).numpy().mean(), abs=1e-5)


def test_the_bicubic_baseline_is_tf_image_resize():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype(np.float32)
    expected = np.clip(tf.image.resize(x, (32, 32), method="bicubic").numpy(), -1, 1)
    np.testing.assert_array_equal(transforms.upsample_bicubic(x, 4), expected)
