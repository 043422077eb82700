import atexit
import fcntl
import functools
import gzip
import os
import pathlib
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras_gan.data import datasets as data  # noqa: E402
from keras_gan.data import photos, readers  # noqa: E402
from keras_gan.models import presets  # noqa: E402
from PIL import Image  # noqa: E402


def write_idx(path, array, *, gz=False):
    """Writes `array` (uint8) in LeCun's IDX format, as the MNIST files are."""
    array = np.asarray(array, np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if gz else open
    with opener(str(path) + (".gz" if gz else ""), "wb") as f:
        f.write(header + array.tobytes())


def fake_images(n, seed=0, shape=(28, 28)):
    """Images a GAN can learn something from: a bright square whose position depends on the label."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 40, (n, *shape), dtype=np.uint8)
    for i, y in enumerate(labels):
        r, c = 2 + (y // 5) * 12, 2 + (y % 5) * 5
        images[i, r:r + 10, c:c + 5] = 230
    return images, labels


def write_idx_dataset(folder, n_train=512, n_test=64, *, gz=False, seed=0):
    os.makedirs(folder, exist_ok=True)
    x, y = fake_images(n_train, seed)
    xt, yt = fake_images(n_test, seed + 1)
    for key, arr in (("x_train", x), ("y_train", y), ("x_test", xt), ("y_test", yt)):
        write_idx(os.path.join(folder, readers.IDX_FILES[key]), arr, gz=gz)
    return x, y, xt, yt


PHOTO_CLASSES = ("astronaut", "chelsea", "coffee")
FORMATS = ("png", "jpg", "bmp", "gif")


def photo(name):
    with Image.open(os.path.join(photos.folder(), name + ".png")) as image:
        return np.asarray(image.convert("RGB"))


def write_photo_folder(root, per_class=24, *, seed=0):
    """Class subfolders of real photographs' crops of varied sizes, formats and modes (grey, RGBA)."""
    rng = np.random.default_rng(seed)
    for name in PHOTO_CLASSES:
        picture = photo(name)
        os.makedirs(root / name, exist_ok=True)
        for i in range(per_class):
            h, w = (int(v) for v in rng.integers(40, 120, 2))
            r, c = rng.integers(0, picture.shape[0] - h), rng.integers(0, picture.shape[1] - w)
            image = Image.fromarray(picture[r:r + h, c:c + w])
            if i % 6 == 1:
                image = image.convert("L")
            elif i % 6 == 2 and FORMATS[i % 4] in ("png", "gif"):
                image = image.convert("RGBA")
            image.save(root / name / f"{i:03d}.{FORMATS[i % 4]}")
    return root


@functools.cache
def photo_folder() -> str:
    """A folder dataset of real photographs' crops (three classes of 12), written once per process."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="keras_gan_photos_"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return str(write_photo_folder(root, per_class=12))


def family_data(model: str, idx_dir: str) -> dict:
    """TrainConfig values of data that `model` takes, small: the MNIST-shaped IDX files, or, for the
    paper's DCGAN (which needs sides of 8, 16, 32 ...), the photo folder at 16x16, at a tenth of the width."""
    if presets.get(model).architecture == "paper":
        return dict(dataset=f"folder:{photo_folder()}", image_size=16, dcgan_filters=8)
    return dict(dataset="mnist", data_dir=idx_dir)


@pytest.fixture(autouse=True)
def isolated_sources(tmp_path_factory, monkeypatch):
    """No test sees this machine's Keras cache or TFDS data, or tries the network."""
    home = tmp_path_factory.mktemp("keras_home")
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv("TFDS_DATA_DIR", str(home / "tfds"))
    monkeypatch.setattr(data, "network_reachable", lambda *a, **k: False)
    return home


@pytest.fixture
def no_system_copy(monkeypatch):
    """Hides the Debian Fashion-MNIST copy, so a test sees only the sources it sets up."""
    monkeypatch.setitem(data.DATASETS, "fashion_mnist",
                        data.dataclasses.replace(data.DATASETS["fashion_mnist"], system_dirs=()))


@pytest.fixture(scope="session")
def classifier_cache(idx_dir, tmp_path_factory, worker_id):
    """A KERAS_GAN_CACHE holding the evaluation classifier, trained once on the fabricated data: once
    per run, shared by the pytest-xdist workers (whose fabricated data is the same)."""
    from keras_gan.evaluation import features

    given = os.environ.get("KERAS_GAN_TEST_CLASSIFIER")  # a pytest started by a test (tests/backends) reuses its
    if given and (pathlib.Path(given) / "trained").exists():
        return pathlib.Path(given)
    shared = worker_id != "master"  # the workers' temporary folders lie in one folder of this run
    root = tmp_path_factory.getbasetemp().parent if shared else tmp_path_factory.mktemp("cache")
    folder = root / "classifier_cache"
    with open(root / "classifier_cache.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other worker waits while one trains
        if not (folder / "trained").exists():
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("KERAS_GAN_CACHE", str(folder))
                features.train_classifier(data.load_arrays("mnist", idx_dir), epochs=2, log=lambda *_: None)
            (folder / "trained").write_text("")
    return folder


def made_once(tmp_path_factory, name: str, make) -> pathlib.Path:
    """The folder `name`, filled by `make(folder)` once per run of the suite and shared by the pytest-xdist
    workers (another worker that asks waits, then reads it): for the trained runs that several tests
    read. A failed `make` leaves no folder behind for the next to read. Tests read it, and write
    anywhere else (a copy, where they must write beside it)."""
    shared = os.environ.get("PYTEST_XDIST_WORKER") is not None
    root = tmp_path_factory.getbasetemp().parent if shared else tmp_path_factory.getbasetemp()
    folder = root / f"made_once_{name}"
    with open(root / f"made_once_{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".made").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".made").write_text("")
    return folder


@pytest.fixture
def use_classifier(classifier_cache, monkeypatch):
    monkeypatch.setenv("KERAS_GAN_CACHE", str(classifier_cache))


@pytest.fixture(scope="session")
def idx_dir(tmp_path_factory):
    """A small MNIST-shaped dataset as gzipped IDX files."""
    folder = tmp_path_factory.mktemp("idx")
    write_idx_dataset(folder, gz=True)
    return str(folder)
