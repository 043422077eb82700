import subprocess
import sys

import keras
import numpy as np
import pytest
from keras_gan import generate
from keras_gan.io import keras_files as saving
from keras_gan.models import sampling
from keras_gan.runs import generator as run_generator
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop


@pytest.fixture(scope="module")
def run_dir(idx_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "run"
    loop.fit(TrainConfig(dataset="mnist", data_dir=idx_dir, output_dir=str(out), epochs=1,
                            batch_size=32, steps_per_epoch=2), log=lambda *_: None)
    return out


def test_generate_in_a_fresh_process(run_dir, tmp_path):
    cmd = [sys.executable, "-m", "keras_gan.generate", f"--generator={run_dir / 'generator.keras'}",
           "--num=10", "--seed=5", f"--out={tmp_path / 'grid.png'}", f"--npy={tmp_path / 's.npy'}"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (10, 28, 28, 1) and samples.min() >= -1 and samples.max() <= 1
    assert (tmp_path / "grid.png").stat().st_size > 1000
    # The same seed in this process gives the same samples: noise is U(-1, 1) from config.json.
    model = keras.models.load_model(run_dir / "generator.keras")
    np.testing.assert_allclose(sampling.Generator(model, "uniform").sample(10, 5).reshape(samples.shape), samples,
                               atol=1e-6)


@pytest.mark.parametrize("name, message", [
    ("missing.keras", "not found"),
    ("discriminator.keras", "it is a discriminator"),
    ("config.json", "is not a .keras file"),
])
def test_bad_generator_files(run_dir, name, message, capsys):
    code = generate.main(["generate", f"--generator={run_dir / name}", "--out="])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and message in err


def test_a_file_that_is_not_a_model(tmp_path, capsys):
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    assert generate.main(["generate", f"--generator={tmp_path / 'junk.keras'}", "--out="]) == 2
    assert "is not a complete .keras archive" in capsys.readouterr().err


def test_image_shape_inference(run_dir):
    model = saving.load_generator_model(str(run_dir / "generator.keras"))
    assert run_generator.image_shape_for(model) == (28, 28, 1)
    assert run_generator.image_shape_for(model, (28, 28, 1)) == (28, 28, 1)
    assert run_generator.image_shape_for(model, (32, 32, 3)) == (28, 28, 1)  # the run's shape must fit the output
    assert run_generator.image_shape_for(model, None, "14,56,1") == (14, 56, 1)
    with pytest.raises(Exception, match="has 100 values"):
        run_generator.image_shape_for(model, None, "10,10,1")


NO_KERAS_GAN = """
import importlib.abc, importlib.util, json, sys
class Hidden(importlib.abc.MetaPathFinder):  # finds nothing of keras_gan, wherever it is installed
    def find_spec(self, name, path=None, target=None):
        if name == "keras_gan" or name.startswith("keras_gan."):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Hidden())
try:
    importlib.util.find_spec("keras_gan")
    raise SystemExit("keras_gan is importable")
except ModuleNotFoundError:
    pass
import keras, numpy as np
shapes = {}
for path in sys.argv[1:]:
    model = keras.models.load_model(path)
    x = [np.zeros((2, *i.shape[1:]), "float32") for i in model.inputs]
    shapes[path] = list(keras.ops.convert_to_numpy(model(x if len(x) > 1 else x[0])).shape)
assert not any(m.startswith("keras_gan") for m in sys.modules)
print(json.dumps(shapes))
"""


def test_every_saved_model_loads_with_keras_alone(run_dir, cgan_dir, idx_dir, use_classifier, tmp_path):
    # README promises plain keras.models.load_model works: check in a process that cannot import us.
    import json

    from keras_gan.data import datasets as data
    from keras_gan.evaluation import features

    wgan = tmp_path / "wgan"  # weight clipping puts constraints on the critic; --eval_every keeps a best generator
    loop.fit(TrainConfig(model="wgan", dataset="mnist", data_dir=idx_dir, output_dir=str(wgan), epochs=1,
                            batch_size=16, steps_per_epoch=2, eval_every=1, eval_samples=20), log=lambda *_: None)
    paths = [str(folder / name) for folder in (run_dir, cgan_dir, wgan)
             for name in ("generator.keras", "discriminator.keras")]
    paths += [str(wgan / "generator_best.keras"),
              features.classifier_path(data.load_arrays("mnist", idx_dir))]
    result = subprocess.run([sys.executable, "-c", NO_KERAS_GAN, *paths], capture_output=True, text=True,
                            timeout=300, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]
    shapes = json.loads(result.stdout.strip().splitlines()[-1])
    assert shapes == {**{p: [2, 784] for p in paths if "generator" in p}, **{p: [2, 1] for p in paths if "discr" in p},
                      paths[-1]: [2, 10]}


def test_outputs_into_new_folders(run_dir, tmp_path):
    out, npy = tmp_path / "a" / "b" / "g.png", tmp_path / "c" / "s.npy"
    assert generate.main(["generate", f"--generator={run_dir / 'generator.keras'}", "--num=4",
                          f"--out={out}", f"--npy={npy}"]) == 0
    assert out.is_file() and np.load(npy).shape == (4, 28, 28, 1)


def test_unwritable_output_is_one_line(run_dir, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    code = generate.main(["generate", f"--generator={run_dir / 'generator.keras'}",
                          f"--out={tmp_path / 'file' / 'g.png'}"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_noise_distribution_comes_from_the_runs_config(run_dir, tmp_path):
    import json
    import shutil

    shutil.copy(run_dir / "generator.keras", tmp_path / "generator.keras")
    (tmp_path / "config.json").write_text(json.dumps({"dataset": "mnist", "noise": "normal"}))
    assert generate.main(["generate", f"--generator={tmp_path / 'generator.keras'}", "--num=6", "--seed=2",
                          "--out=", f"--npy={tmp_path / 's.npy'}"]) == 0
    model = saving.load_generator_model(str(tmp_path / "generator.keras"))
    expected = sampling.Generator(model, "normal").sample(6, 2)
    np.testing.assert_allclose(np.load(tmp_path / "s.npy"), expected, atol=1e-6)
    assert not np.allclose(expected, sampling.Generator(model, "uniform").sample(6, 2))


# --- conditional generators ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def cgan_dir(idx_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "cgan"
    loop.fit(TrainConfig(model="cgan", dataset="mnist", data_dir=idx_dir, output_dir=str(out), epochs=1,
                            batch_size=32, steps_per_epoch=2), log=lambda *_: None)
    return out


def test_conditional_generator_takes_a_label_in_a_fresh_process(cgan_dir, tmp_path):
    cmd = [sys.executable, "-m", "keras_gan.generate", f"--generator={cgan_dir / 'generator.keras'}",
           "--num=6", "--seed=2", "--label=3", "--out=", f"--npy={tmp_path / 's.npy'}"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (6, 28, 28, 1)
    model = keras.models.load_model(cgan_dir / "generator.keras")
    noise = np.random.default_rng(2).standard_normal((6, 100)).astype("float32")  # config.json: normal
    three = np.asarray(model([noise, np.eye(10, dtype="float32")[[3] * 6]])).reshape(samples.shape)
    seven = np.asarray(model([noise, np.eye(10, dtype="float32")[[7] * 6]])).reshape(samples.shape)
    np.testing.assert_allclose(samples, three, atol=1e-6)
    assert not np.allclose(samples, seven, atol=1e-3)


def test_class_grid_has_one_row_per_class(cgan_dir, tmp_path, capsys, monkeypatch):
    grids = []
    from keras_gan.io import figures as plots

    monkeypatch.setattr(plots, "sample_grid", lambda samples, shape, path, rows, cols, **kw: grids.append(
        (samples, rows, cols)))
    assert generate.main(["generate", f"--generator={cgan_dir / 'generator.keras'}", "--seed=1",
                          f"--out={tmp_path / 'grid.png'}"]) == 0
    samples, rows, cols = grids[0]
    assert (len(samples), rows, cols) == (100, 10, 10)
    model = saving.load_generator_model(str(cgan_dir / "generator.keras"))
    labels = np.repeat(np.arange(10), 10)
    np.testing.assert_allclose(samples.reshape(100, -1), sampling.Generator(model, "normal").sample(100, 1, labels).reshape(100, -1), atol=1e-6)
    assert "classes [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]" in capsys.readouterr().out


@pytest.mark.parametrize("which, args, message", [
    ("cgan", ["--label=10"], "--label must be in 0..9"),
    ("vanilla", ["--label=3"], "is not a conditional generator"),
])
def test_bad_labels(which, args, message, cgan_dir, run_dir, capsys):
    path = (cgan_dir if which == "cgan" else run_dir) / "generator.keras"
    assert generate.main(["generate", f"--generator={path}", "--out=", *args]) == 2
    assert message in capsys.readouterr().err


def test_paths_between_vectors():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 100)), rng.standard_normal((5, 100))
    for kind in ("linear", "spherical"):
        p = sampling.path_between(a, b, 7, kind)
        assert p.shape == (5, 7, 100)
        np.testing.assert_allclose(p[:, 0], a, atol=1e-6)
        np.testing.assert_allclose(p[:, -1], b, atol=1e-6)
    np.testing.assert_allclose(sampling.path_between(a, b, 3, "linear")[:, 1], (a + b) / 2, atol=1e-6)
    # The great circle: for vectors of one norm the norm stays, and the angle grows in equal steps.
    b = b / np.linalg.norm(b, axis=1, keepdims=True) * np.linalg.norm(a, axis=1, keepdims=True)
    arc = sampling.path_between(a, b, 9, "spherical").astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(arc, axis=2), np.linalg.norm(a, axis=1)[:, None].repeat(9, 1), rtol=1e-5)
    unit = arc / np.linalg.norm(arc, axis=2, keepdims=True)
    angles = np.arccos(np.clip(np.sum(unit[:, :1] * unit, axis=2), -1, 1))
    np.testing.assert_allclose(np.diff(angles, axis=1), np.diff(angles, axis=1)[:, :1].repeat(8, 1), atol=1e-5)
    # Parallel vectors fall back to the line; an unknown path is a clear error.
    np.testing.assert_allclose(sampling.path_between(a, 2 * a, 3, "spherical")[:, 1], 1.5 * a, rtol=1e-5)
    with pytest.raises(Exception, match="the path must be one of spherical, linear"):
        sampling.path_between(a, b, 3, "curvy")


@pytest.mark.parametrize("path", ["spherical", "linear"])
def test_interpolate_draws_the_generators_own_images_along_the_path(run_dir, tmp_path, path):
    assert generate.main(["generate", f"--generator={run_dir / 'generator.keras'}", "--interpolate=5", "--num=3",
                          f"--path={path}", "--seed=4", f"--out={tmp_path / 'walk.png'}",
                          f"--npy={tmp_path / 'walk.npy'}"]) == 0
    images = np.load(tmp_path / "walk.npy")
    g = run_generator.load_generator(str(run_dir / "generator.keras"))
    ends = g.noise_for(6, 4).reshape(3, 2, -1)
    expected = g.decode(sampling.path_between(ends[:, 0], ends[:, 1], 5, path).reshape(15, -1))
    assert images.shape == (15, 28, 28, 1)
    np.testing.assert_allclose(images, expected, atol=1e-6)
    np.testing.assert_allclose(images[::5], g.decode(ends[:, 0]), atol=1e-5)  # each path starts at its vector
    assert (tmp_path / "walk.png").stat().st_size > 1000
    from PIL import Image
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 2 * 5 - 2  # forward and back


def test_a_conditional_generator_interpolates_between_classes(cgan_dir, tmp_path):
    generator = cgan_dir / "generator.keras"
    assert generate.main(["generate", f"--generator={generator}", "--interpolate=4", "--num=3", "--seed=2",
                          f"--out={tmp_path / 'classes.png'}", f"--npy={tmp_path / 'classes.npy'}"]) == 0
    images = np.load(tmp_path / "classes.npy").reshape(3, 4, -1)
    g = run_generator.load_generator(str(generator))
    noise = g.noise_for(3, 2)
    # Row r starts at class r and ends at class r + 1, with the same noise vector all along.
    np.testing.assert_allclose(images[:, 0], g.decode(noise, np.arange(3)).reshape(3, -1), atol=1e-5)
    np.testing.assert_allclose(images[:, -1], g.decode(noise, np.arange(1, 4)).reshape(3, -1), atol=1e-5)
    halfway = np.eye(10, dtype=np.float32)[np.arange(3)] * (2 / 3) + np.eye(10, dtype=np.float32)[np.arange(1, 4)] / 3
    np.testing.assert_allclose(images[:, 1], g.decode(noise, halfway).reshape(3, -1), atol=1e-5)
    # Held at one class: paths between noise vectors of that class.
    assert generate.main(["generate", f"--generator={generator}", "--interpolate=4", "--num=2", "--label=7",
                          f"--out={tmp_path / 'seven.png'}", f"--npy={tmp_path / 'seven.npy'}"]) == 0
    ends = g.noise_for(4, 0).reshape(2, 2, -1)
    np.testing.assert_allclose(np.load(tmp_path / "seven.npy").reshape(8, -1),
                               g.decode(sampling.path_between(ends[:, 0], ends[:, 1], 4).reshape(8, -1),
                                        np.full(8, 7)).reshape(8, -1), atol=1e-5)


def test_an_interpolation_of_one_step_is_refused(run_dir, capsys):
    assert generate.main(["generate", f"--generator={run_dir / 'generator.keras'}", "--interpolate=1"]) == 2
    assert "--interpolate must be at least 2 steps" in capsys.readouterr().err
