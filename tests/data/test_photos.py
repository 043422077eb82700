"""`--dataset=photos`: patches of the photographs scikit-image's wheel ships (keras_gan/data/photos.py),
read from the installed files: where each patch comes from, the split that keeps test pixels out of
training, the error without scikit-image, and a super-resolution epoch on them."""

import os

import numpy as np
import pytest
from keras_gan.data import datasets as data
from keras_gan.data import photos
from keras_gan.errors import DataError
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop
from PIL import Image


@pytest.fixture(scope="module")
def arrays():
    return data.load_arrays("photos")


def original(name):
    with Image.open(os.path.join(photos.folder(), name)) as image:
        return np.asarray(image.convert("RGB"))


def test_patches_come_from_the_photographs(arrays):
    assert arrays.x_train.shape[1:] == arrays.x_test.shape[1:] == (32, 32, 3)
    assert arrays.source.startswith("scikit-image's photographs")
    counts = np.bincount(arrays.y_train, minlength=len(photos.PHOTOS))
    astronaut = original("astronaut.png")  # 512 x 512: not shrunk
    # training patches every 8 pixels over the left three quarters (384 columns): 61 rows of 45
    assert counts[0] == 61 * 45
    assert np.array_equal(arrays.x_train[0], astronaut[:32, :32])
    assert np.array_equal(arrays.x_train[46], astronaut[8:40, 8:40])  # second row, second column
    assert np.array_equal(arrays.x_train[61 * 45 - 1], astronaut[480:512, 352:384])  # ends at the cut
    # test patches every 32 pixels over the right quarter: 16 rows of 4, none touching a training pixel
    test = arrays.x_test[arrays.y_test == 0]
    assert len(test) == 16 * 4 and np.array_equal(test[0], astronaut[:32, 384:416])
    assert np.array_equal(test[-1], astronaut[480:512, 480:512])
    coffee = photos.read_photo(os.path.join(photos.folder(), "coffee.png"))  # 600 x 400, shrunk to 512 x 341
    assert coffee.shape == (341, 512, 3)
    first = int(np.argmax(arrays.y_train == 2))
    assert np.array_equal(arrays.x_train[first], coffee[:32, :32])
    assert set(np.unique(arrays.y_test)) == set(range(len(photos.PHOTOS)))
    assert data.load_arrays("photos").fingerprint == arrays.fingerprint  # the same data every time


def test_without_scikit_image_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setattr(photos.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataError, match="scikit-image is not installed: pip install scikit-image"):
        data.load_arrays("photos")


def test_super_resolution_trains_on_photos(tmp_path, arrays):
    c = TrainConfig(model="srresnet", dataset="photos", epochs=1, steps_per_epoch=2, batch_size=4, filters=4,
                    blocks=1, sample_rows=2, output_dir=str(tmp_path / "run"))
    history = loop.fit(c, log=lambda *_: None)
    assert len(history["g_loss"]) == 2 and np.isfinite(history["g_loss"]).all()
    assert (tmp_path / "run" / "generator.keras").exists()
