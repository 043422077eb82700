import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from keras_gan.data import datasets as data
from keras_gan.data import pipeline, readers
from keras_gan.errors import ConfigError, DataError

from tests.conftest import fake_images, write_idx_dataset


def _save_npz(path, shape=(28, 28), n=20):
    x, y = fake_images(n, shape=shape) if len(shape) == 2 else (np.zeros((n, *shape), np.uint8), np.zeros(n))
    np.savez(path, x_train=x, y_train=y, x_test=x[:5], y_test=y[:5])
    return x, y


# --- sources, in order -----------------------------------------------------------------------------

def test_load_idx_folder(idx_dir):
    arrays = data.load_arrays("mnist", idx_dir)
    assert arrays.x_train.shape == (512, 28, 28, 1) and arrays.x_train.dtype == np.uint8
    assert arrays.y_train.shape == (512,) and arrays.x_test.shape == (64, 28, 28, 1)
    assert arrays.source.startswith("--data_dir")
    x, y = fake_images(512, 0)
    np.testing.assert_array_equal(arrays.x_train[..., 0], x)
    np.testing.assert_array_equal(arrays.y_train, y)


@pytest.mark.parametrize("as_dir", [False, True])
def test_load_npz(tmp_path, as_dir):
    x, y = _save_npz(tmp_path / "mnist.npz")
    arrays = data.load_arrays("mnist", str(tmp_path if as_dir else tmp_path / "mnist.npz"))
    np.testing.assert_array_equal(arrays.x_train[..., 0], x)
    np.testing.assert_array_equal(arrays.y_train, y)


def test_shape_mismatch_is_reported(tmp_path):
    _save_npz(tmp_path / "d.npz", shape=(32, 32, 3))
    with pytest.raises(DataError, match=r"images of shape \(32, 32, 3\), but mnist images are \(28, 28, 1\)"):
        data.load_arrays("mnist", str(tmp_path / "d.npz"))


def test_label_count_mismatch_is_reported(tmp_path):
    x, y = fake_images(20)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=y[:10], x_test=x, y_test=y)
    with pytest.raises(DataError, match="20 images but y_train has 10 labels"):
        data.load_arrays("mnist", str(tmp_path / "d.npz"))


def test_data_dir_comes_before_the_system_copy(tmp_path, monkeypatch):
    system, user = tmp_path / "system", tmp_path / "user"
    write_idx_dataset(system, n_train=40, n_test=8, seed=1)
    write_idx_dataset(user, n_train=30, n_test=8, seed=2)
    spec = data.dataclasses.replace(data.DATASETS["fashion_mnist"], system_dirs=(str(system),))
    monkeypatch.setitem(data.DATASETS, "fashion_mnist", spec)
    assert len(data.load_arrays("fashion_mnist", str(user)).x_train) == 30
    from_system = data.load_arrays("fashion_mnist")
    assert len(from_system.x_train) == 40 and from_system.source.startswith("system copy")
    # A data_dir without the data falls through to the next source, and says which one it used.
    assert data.load_arrays("fashion_mnist", str(tmp_path / "empty")).source.startswith("system copy")


def test_corrupt_source_is_an_error_not_a_fallthrough(tmp_path):
    write_idx_dataset(tmp_path, n_train=30, n_test=8)
    raw = (tmp_path / readers.IDX_FILES["x_train"]).read_bytes()
    (tmp_path / readers.IDX_FILES["x_train"]).write_bytes(raw[:-1])
    with pytest.raises(DataError, match="truncated or corrupt"):
        data.load_arrays("mnist", str(tmp_path))


def test_keras_cache(isolated_sources):
    os.makedirs(isolated_sources / "datasets")
    x, _ = _save_npz(isolated_sources / "datasets" / "mnist.npz")
    arrays = data.load_arrays("mnist")
    assert arrays.source.startswith("Keras cache")
    np.testing.assert_array_equal(arrays.x_train[..., 0], x)


def test_cifar10_python_batches(isolated_sources):
    folder = isolated_sources / "datasets" / "cifar-10-batches-py"
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": batches[name], b"labels": [1, 2, 3, 4]}, f)
    arrays = data.load_arrays("cifar10")
    assert arrays.x_train.shape == (20, 32, 32, 3) and arrays.x_test.shape == (4, 32, 32, 3)
    # Rows are stored channel-first: 1024 red values, then green, then blue.
    first = batches["data_batch_1"][0]
    np.testing.assert_array_equal(arrays.x_train[0, :, :, 0].ravel(), first[:1024])
    np.testing.assert_array_equal(arrays.x_train[0, :, :, 2].ravel(), first[2048:])


def test_nothing_found_names_every_place(no_system_copy):
    with pytest.raises(DataError) as err:
        data.load_arrays("fashion_mnist", "/nonexistent/folder")
    message = str(err.value)
    for expected in ("--data_dir: /nonexistent/folder", "Keras cache", "TensorFlow Datasets",
                     "apt-get install dataset-fashion-mnist", "--data_dir=FOLDER"):
        assert expected in message
    assert "system copy" not in message  # hidden by the fixture: only real places are listed


def test_unknown_dataset():
    with pytest.raises(ConfigError, match="unknown dataset 'svhn'; choose one of: mnist, fashion_mnist, cifar10"):
        data.load_arrays("svhn")


def test_tfds_source_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=12):
        arrays = data.load_arrays("mnist")
    assert arrays.source.startswith("TensorFlow Datasets")
    assert arrays.x_train.shape == (12, 28, 28, 1) and arrays.y_train.shape == (12,)
    assert arrays.x_train.dtype == np.uint8


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_debian_fashion_mnist():
    arrays = data.load_arrays("fashion_mnist")
    assert arrays.source.startswith("system copy")
    assert arrays.x_train.shape == (60000, 28, 28, 1) and arrays.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(arrays.y_train).tolist() == [6000] * 10


# --- pipeline ----------------------------------------------------------------------------------------

def test_pipeline_scaling_order_and_batches():
    images = np.zeros((10, 28, 28, 1), np.uint8)
    images[:, 0, 0, 0] = np.arange(10)  # tags each image with its index
    images[:, 0, 1, 0] = 255
    labels = np.arange(10) % 3
    pipe = pipeline.Pipeline(images, labels)
    batches = list(pipe.epoch(batch_size=4, seed=3, epoch=1))
    assert len(batches) == 2  # the partial batch is dropped
    x, y = batches[0]
    assert x.shape == (4, 784)
    assert np.all(x.numpy()[:, 1] == 1.0) and np.all(x.numpy()[:, 2] == -1.0)
    seen = np.concatenate([np.rint((b[0].numpy()[:, 0] + 1) * 127.5) for b in batches]).astype(int)
    np.testing.assert_array_equal(seen, pipe.order(3, 1)[:8])
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), labels[seen])
    assert len(set(seen)) == 8


def test_every_pixel_value_scales_to_the_decks_float32_value_exactly():
    """The pipeline keeps uint8 images and scales each batch through a table of the 256 values: the
    batches equal the deck's `x / 127.5 - 1` in float32, bit for bit, for every pixel value."""
    images = np.arange(256 * 4, dtype=np.int64).reshape(4, 16, 16, 1).astype(np.uint8)
    formula = images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    np.testing.assert_array_equal(pipeline.to_unit_range(images), formula)
    (batch,) = list(pipeline.Pipeline(images, flatten=False).epoch(batch_size=4, seed=0, epoch=1))
    order = pipeline.Pipeline(images).order(0, 1)
    assert batch.dtype == np.float32
    np.testing.assert_array_equal(batch.numpy(), formula[order])
    with pytest.raises(DataError, match="must be uint8"):
        pipeline.Pipeline(formula)


def test_pipeline_order_depends_on_seed_and_epoch_only():
    pipe = pipeline.Pipeline(np.zeros((100, 28, 28, 1), np.uint8))
    np.testing.assert_array_equal(pipe.order(0, 1), pipeline.Pipeline(np.zeros((100, 28, 28), np.uint8)).order(0, 1))
    assert not np.array_equal(pipe.order(0, 1), pipe.order(0, 2))
    assert not np.array_equal(pipe.order(0, 1), pipe.order(1, 1))
    assert sorted(pipe.order(0, 5)) == list(range(100))


# --- through the command line ---------------------------------------------------------------------------

def _cli(args, env_extra, timeout=120):
    env = dict(os.environ, KERAS_GAN_OFFLINE="1", **env_extra)
    return subprocess.run([sys.executable, "-m", "keras_gan.train", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_cli_missing_dataset_exits_2_without_traceback(tmp_path):
    result = _cli(["--dataset=mnist", f"--output_dir={tmp_path / 'run'}"],
                  {"KERAS_HOME": str(tmp_path), "TFDS_DATA_DIR": str(tmp_path / "tfds")})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "error: dataset 'mnist' was not found" in result.stderr
    assert "Keras cache" in result.stderr and "TensorFlow Datasets" in result.stderr
    assert "downloads disabled" in result.stderr  # KERAS_GAN_OFFLINE=1: TFDS did not try the network


def test_cli_corrupt_idx_exits_2(tmp_path):
    write_idx_dataset(tmp_path / "d", n_train=30, n_test=8)
    (tmp_path / "d" / readers.IDX_FILES["y_test"]).write_bytes(b"\x08\x03\x00\x00")
    result = _cli(["--dataset=mnist", f"--data_dir={tmp_path / 'd'}", f"--output_dir={tmp_path / 'run'}"],
                  {"KERAS_HOME": str(tmp_path)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "bad magic number" in result.stderr


def test_data_dir_that_is_an_idx_file(idx_dir):
    with pytest.raises(DataError, match="is a file but not an .npz archive"):
        data.load_arrays("mnist", os.path.join(idx_dir, readers.IDX_FILES["x_train"] + ".gz"))


def test_one_pipeline_follows_each_epochs_order():
    images = np.zeros((12, 28, 28, 1), np.uint8)
    images[:, 0, 0, 0] = np.arange(12)
    pipe = pipeline.Pipeline(images)

    def seen(epoch):
        batches = pipe.epoch(batch_size=4, seed=5, epoch=epoch)
        return np.concatenate([np.rint((b.numpy()[:, 0] + 1) * 127.5) for b in batches]).astype(int)

    for epoch in (1, 2, 1):
        np.testing.assert_array_equal(seen(epoch), pipe.order(5, epoch))
    assert len(pipe._datasets) == 1  # re-iterated, not rebuilt


def test_the_digest_tells_apart_values_dtypes_shapes_and_order():
    a, b = np.arange(6, dtype=np.uint8), np.zeros(3, np.float32)
    base = data.digest([a, b])
    assert base == data.digest([a.copy(), b.copy()]) and len(base) == 64
    changed = a.copy()
    changed[5] = 6
    others = [data.digest([changed, b]), data.digest([a.astype(np.int16), b]), data.digest([a.reshape(2, 3), b]),
              data.digest([b, a]), data.digest([a[::2], b]), data.digest([a])]
    assert len({base, *others}) == 1 + len(others)
    assert data.digest([a[::2]]) == data.digest([np.array([0, 2, 4], np.uint8)])  # a view digests as its values
