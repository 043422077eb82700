"""python -m keras_gan.export: a SavedModel and a TFLite file of a trained generator, each run here on new
noise and compared with the .keras generator's own images."""

import json

import numpy as np
import pytest
import tensorflow as tf
from keras_gan import export
from keras_gan.inference import export as exporting
from keras_gan.models import sampling
from keras_gan.runs import generator as run_generator
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop


@pytest.fixture(scope="module")
def runs(idx_dir, tmp_path_factory):
    out = {}
    for model in ("vanilla", "cgan"):
        folder = tmp_path_factory.mktemp(model) / "run"
        loop.fit(TrainConfig(model=model, dataset="mnist", data_dir=idx_dir, output_dir=str(folder), epochs=1,
                             batch_size=32, steps_per_epoch=2), log=lambda *_: None)
        out[model] = folder / "generator.keras"
    return out


@pytest.mark.parametrize("model, batch", [("vanilla", 1), ("cgan", 4)])
def test_the_exports_reproduce_the_generator(runs, tmp_path, model, batch):
    out = tmp_path / "exported"
    assert export.main(["export", f"--generator={runs[model]}", f"--out={out}", f"--batch={batch}"]) == 0
    report = json.loads((out / "export.json").read_text())
    assert report["saved_model_max_difference"] <= 1e-4 and report["tflite_max_difference"] <= 1e-4
    # Checked again here, on other noise: the SavedModel at another batch, TFLite at its fixed batch.
    g = run_generator.load_generator(str(runs[model]))
    noise = g.noise_for(8, 123)
    labels = None if g.num_classes is None else np.arange(8) % 10
    inputs = [noise] if labels is None else [noise, sampling.one_hot(labels, 10)]
    expected = sampling.decode(g.model, noise, labels)
    loaded = tf.saved_model.load(str(out / "saved_model"))
    served = exporting.serve(loaded, inputs)
    np.testing.assert_allclose(served.reshape(expected.shape), expected, atol=1e-5)
    lite = exporting.run_tflite((out / "generator.tflite").read_bytes(), inputs, batch)
    np.testing.assert_allclose(lite.reshape(expected.shape), expected, atol=1e-4)
    # Exporting again into the folder it wrote replaces it.
    assert export.main(["export", f"--generator={runs[model]}", f"--out={out}", f"--batch={batch}"]) == 0


def test_a_folder_of_other_files_is_not_replaced_and_a_failed_check_writes_nothing(runs, tmp_path, monkeypatch,
                                                                                   capsys):
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    assert export.main(["export", f"--generator={runs['vanilla']}", f"--out={other}"]) == 2
    assert "exists and holds other files; name a new folder" in capsys.readouterr().err
    assert (other / "notes.txt").read_text() == "keep me"
    monkeypatch.setattr(exporting, "run_tflite", lambda content, inputs, batch: np.zeros((len(inputs[0]), 784)))
    assert export.main(["export", f"--generator={runs['vanilla']}", f"--out={tmp_path / 'bad'}"]) == 2
    assert "the exported tflite does not reproduce" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists() and not list(tmp_path.glob(".export-*"))
    assert export.main(["export", f"--out={tmp_path / 'x'}"]) == 2
    assert "--generator=PATH.keras and --out=FOLDER are required" in capsys.readouterr().err
