"""The CID index and the copy test on real Fashion-MNIST (the Debian copy that `make test` installs),
against generators whose answer is known: the test split itself, noisy and shifted copies of training
images, 100 images repeated, one class only. Each goes through the registered metric, as `evaluate`
and `make experiment` score a generator."""

import numpy as np
import pytest
from keras_gan.data import datasets as data
from keras_gan.data.pipeline import to_unit_range
from keras_gan.metrics import registry

N = 3000


@pytest.fixture(scope="module")
def fashion():
    arrays = data.load_arrays("fashion_mnist")  # `make test` installs it (make data)
    rng = np.random.default_rng(0)
    # Half the training split and half the test split: the same answers, at half the cost.
    train, test = to_unit_range(arrays.x_train[:30000]), to_unit_range(arrays.x_test[:5000])
    reference = registry.Reference(train, test)  # the threshold and the cells are made once, as in scoring
    return {"train": train, "test": test, "y_test": arrays.y_test[:5000], "rng": rng, "reference": reference,
            "real": train[rng.choice(len(train), N, replace=False)]}


def score(fashion, fake):
    inputs = registry.Inputs(fashion["real"], np.asarray(fake, np.float32), reference=fashion["reference"])
    return registry.compute([registry.get("cid")], inputs)


def copies(fashion):
    return fashion["train"][fashion["rng"].choice(len(fashion["train"]), N, replace=False)]


def test_the_test_split_is_not_flagged_and_scores_one(fashion):
    got = score(fashion, fashion["test"][fashion["rng"].choice(len(fashion["test"]), N, replace=False)])
    assert got["copying"] == 0.0 and abs(got["copy_z"]) < 3
    assert got["creativity"] >= 0.95 and got["inheritance"] >= 0.95 and got["diversity"] >= 0.95


def test_training_images_with_light_noise_are_flagged(fashion):
    noisy = np.clip(copies(fashion) + fashion["rng"].normal(0, 0.2, (N, 28, 28, 1)), -1, 1)
    got = score(fashion, noisy)
    assert got["copying"] == 1.0 and got["copy_z"] < -3 and got["creativity"] <= 0.2
    assert got["memorised"] < 0.01  # none is within tau of its original: the threshold alone misses them


def test_training_images_moved_by_a_pixel_are_flagged(fashion):
    moved = np.roll(copies(fashion), 1, axis=2)
    moved[:, :, 0] = -1.0
    got = score(fashion, moved)
    assert got["copying"] == 1.0 and got["creativity"] <= 0.1


def test_a_hundred_images_repeated_twenty_times_each_have_no_diversity(fashion):
    distinct = fashion["test"][fashion["rng"].choice(len(fashion["test"]), N // 20, replace=False)]
    got = score(fashion, np.repeat(distinct, 20, axis=0))
    assert got["diversity"] <= 0.2 and got["copying"] == 0.0


def test_one_class_only_has_low_diversity(fashion):
    got = score(fashion, fashion["test"][fashion["y_test"] == 0])  # 500 T-shirts
    assert got["diversity"] <= 0.5 and got["creativity"] >= 0.95
