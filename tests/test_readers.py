import numpy as np
import pytest

from keras_gan import readers
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
