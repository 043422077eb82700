import os
import stat

import numpy as np
import pytest
from keras_gan.io import atomic as files
from keras_gan.runs import checkpoint


def test_round_trip(tmp_path):
    state = {"generator/0": np.arange(6, dtype=np.float32).reshape(2, 3), "d_optimizer/0": np.array(7)}
    meta = {"epoch": 3, "history": {"d_loss": [0.5, 0.25]}}
    checkpoint.save(str(tmp_path), state, meta)
    loaded_state, loaded_meta = checkpoint.load(str(tmp_path))
    assert loaded_meta == meta
    assert set(loaded_state) == set(state)
    np.testing.assert_array_equal(loaded_state["generator/0"], state["generator/0"])


def test_missing_checkpoint_is_none(tmp_path):
    assert checkpoint.load(str(tmp_path)) is None


def test_crash_while_writing_keeps_the_old_file(tmp_path):
    checkpoint.save(str(tmp_path), {"w": np.ones(3)}, {"epoch": 1, "history": {}})
    with pytest.raises(RuntimeError):
        with files.atomic_path(str(tmp_path / checkpoint.CHECKPOINT)) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"half a checkpoint")
            raise RuntimeError("killed while saving")
    state, meta = checkpoint.load(str(tmp_path))
    assert meta == {"epoch": 1, "history": {}} and np.array_equal(state["w"], np.ones(3))
    assert os.listdir(tmp_path) == [checkpoint.CHECKPOINT]  # no temporary left behind


def test_written_files_have_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        files.write_text(str(tmp_path / "a.txt"), "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o644


def test_remove_temporaries_keeps_real_files(tmp_path):
    (tmp_path / f"{files.TEMPORARY_PREFIX}abc.npz").write_bytes(b"half")
    (tmp_path / "losses.csv").write_text("x")
    files.remove_temporaries(str(tmp_path))
    assert os.listdir(tmp_path) == ["losses.csv"]


def test_load_meta_reads_the_epoch_without_the_weights(tmp_path):
    assert checkpoint.load_meta(str(tmp_path)) is None
    checkpoint.save(str(tmp_path), {"w/0": np.ones(3)}, {"epoch": 4, "history": {"d_loss": [1.0]}})
    assert checkpoint.load_meta(str(tmp_path)) == {"epoch": 4, "history": {"d_loss": [1.0]}}
