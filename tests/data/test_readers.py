import numpy as np
import pytest
from keras_gan.data import pipeline, readers
from keras_gan.errors import DataError

from tests.conftest import write_idx


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    write_idx(tmp_path / "x", images, gz=gz)
    labels = np.array([7, 0, 9], np.uint8)
    write_idx(tmp_path / "y", labels, gz=gz)
    suffix = ".gz" if gz else ""
    np.testing.assert_array_equal(readers.read_idx(str(tmp_path / "x") + suffix), images)
    np.testing.assert_array_equal(readers.read_idx(str(tmp_path / "y") + suffix), labels)


def test_idx_bad_magic(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(DataError, match="bad magic number"):
        readers.read_idx(str(path))


def test_idx_truncated(tmp_path):
    write_idx(tmp_path / "x", np.zeros((10, 28, 28), np.uint8))
    raw = (tmp_path / "x").read_bytes()
    (tmp_path / "x").write_bytes(raw[:-100])
    with pytest.raises(DataError, match="truncated or corrupt"):
        readers.read_idx(str(tmp_path / "x"))


def test_idx_header_truncated(tmp_path):
    (tmp_path / "x").write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(DataError, match="truncated IDX header"):
        readers.read_idx(str(tmp_path / "x"))


def test_idx_broken_gzip(tmp_path):
    write_idx(tmp_path / "x", np.zeros((10, 28, 28), np.uint8), gz=True)
    raw = (tmp_path / "x.gz").read_bytes()
    (tmp_path / "x.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="cannot read"):
        readers.read_idx(str(tmp_path / "x.gz"))


def test_idx_gzip_with_a_corrupt_stream(tmp_path):
    """A whole archive whose compressed data is damaged: zlib's own error, reported as the others."""
    write_idx(tmp_path / "x", np.arange(10 * 28 * 28).reshape(10, 28, 28).astype(np.uint8), gz=True)
    raw = bytearray((tmp_path / "x.gz").read_bytes())
    raw[20:40] = b"\xff" * 20  # inside the deflate stream, after the 10-byte gzip header
    (tmp_path / "x.gz").write_bytes(bytes(raw))
    with pytest.raises(DataError, match="cannot read .*Replace the file"):
        readers.read_idx(str(tmp_path / "x.gz"))


def test_npz_missing_keys(tmp_path):
    np.savez(tmp_path / "d.npz", x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.zeros(2))
    with pytest.raises(DataError, match="lacks the arrays x_test, y_test"):
        readers.read_npz(str(tmp_path / "d.npz"))


def test_npz_not_an_archive(tmp_path):
    (tmp_path / "d.npz").write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="cannot read"):
        readers.read_npz(str(tmp_path / "d.npz"))


def test_npy_images_in_every_layout_and_uint8_pixels(tmp_path):

    pixels = np.random.default_rng(0).integers(0, 256, (3, 4, 4, 1), dtype=np.uint8)
    expected = pipeline.to_unit_range(pixels)
    for i, layout in enumerate((pixels, pixels[..., 0], pixels.reshape(3, 16))):
        np.save(tmp_path / f"{i}.npy", layout)
        assert np.array_equal(readers.read_images(str(tmp_path / f"{i}.npy"), (4, 4, 1), "images"), expected)
    np.save(tmp_path / "floats.npy", expected.astype(np.float64))
    assert np.array_equal(readers.read_images(str(tmp_path / "floats.npy"), (4, 4, 1), "images"), expected)
    # the right number of values in another shape is refused, not reshaped: 2x2 images are not 4x4 ones
    np.save(tmp_path / "small.npy", np.zeros((12, 2, 2, 1), np.float32))
    with pytest.raises(DataError, match=r"must hold images of 4x4x1, as \(N, H, W, C\).*got shape \(12, 2, 2, 1\)"):
        readers.read_images(str(tmp_path / "small.npy"), (4, 4, 1), "images")
    np.save(tmp_path / "ints.npy", np.full((2, 16), 7, np.int64))
    with pytest.raises(DataError, match=r"values in \[-1, 1\], or uint8 pixels 0..255; got range \[7, 7\]"):
        readers.read_images(str(tmp_path / "ints.npy"), (4, 4, 1), "images")
