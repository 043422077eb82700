"""The members that learn from images (cyclegan, srgan, srresnet) through the one training loop:
their data, an epoch end to end on fabricated data, exact resume (image pools included), saved
generators that reproduce the trained ones in a process without keras_gan, the translate and
upscale commands, and the settings they refuse."""

import json
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras_gan import translate, upscale
from keras_gan.data import datasets as data
from keras_gan.data import domains, pipeline, transforms
from keras_gan.errors import ConfigError, DivergenceError
from keras_gan.runs import checkpoint
from keras_gan.runs import folder as rundir
from keras_gan.runs.config import TrainConfig
from keras_gan.training import callbacks, loop, tasks

from tests.commands.test_generate import NO_KERAS_GAN, run_dir  # noqa: F401, F811  (run_dir: a trained noise GAN)
from tests.conftest import made_once

SMALL = {"cyclegan": dict(filters=4, blocks=1, batch_size=8),
         "srgan": dict(filters=4, blocks=1, batch_size=8),
         "srresnet": dict(filters=4, blocks=1, batch_size=8)}


def quiet(*_):
    pass


def config(model, idx_dir, out, **kw):
    values = dict(model=model, dataset="mnist", data_dir=idx_dir, output_dir=str(out), epochs=2, steps_per_epoch=3,
                  sample_rows=3, seed=5, **SMALL[model])
    return TrainConfig(**{**values, **kw})


# --- data ------------------------------------------------------------------------------------------------

def test_edges_are_a_fixed_sobel_filter():
    flat = transforms.edges(np.full((1, 6, 6, 1), 200, np.uint8))[0, :, :, 0]
    assert (flat[1:5, 1:5] == 255).all()  # no gradient, no line: white
    assert (flat[0] < 255).all()  # zero padding: the border is a step down to 0
    step = np.zeros((1, 6, 6, 1), np.uint8)
    step[:, :, 3:] = 255  # a vertical edge between columns 2 and 3
    e = transforms.edges(step)[0, :, :, 0].astype(int)
    # Sobel x at columns 2 and 3 of an inner row: 4 (in units of the [0, 1] pixels) -> magnitude/2 = 2 -> black
    assert e[2, 2] == 0 and e[2, 3] == 0 and e[2, 0] == 255
    rgb = np.repeat(step, 3, axis=-1)
    assert np.array_equal(transforms.edges(rgb), np.repeat(transforms.edges(step), 3, axis=-1))


def test_the_two_domains_are_disjoint_halves_of_the_footwear():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (200, 28, 28, 1), dtype=np.uint8)
    y = np.arange(200) % 10
    arrays = data.Arrays(x, y, x[:50], y[:50], "test", data.get_spec("fashion_mnist"))
    d = domains.edges_and_images(arrays)
    footwear = x[np.isin(y, (5, 7, 9))]
    assert len(d.a_train) == len(d.b_train) == len(footwear) // 2 == 30
    # B is footwear, and A is the edge map of the other footwear images: no image is in both.
    b_rows = {im.tobytes() for im in d.b_train}
    assert b_rows <= {im.tobytes() for im in footwear}
    a_sources = [im for im in footwear if im.tobytes() not in b_rows]
    assert {im.tobytes() for im in d.a_train} == {im.tobytes() for im in transforms.edges(np.stack(a_sources))}
    assert np.array_equal(d.a_test, transforms.edges(d.b_test)) and len(d.b_test) == 15
    again = domains.edges_and_images(arrays)  # the split does not depend on the run's seed
    assert np.array_equal(again.b_train, d.b_train)


# --- the loop --------------------------------------------------------------------------------------------

@pytest.fixture(params=["cyclegan", "srgan", "srresnet"])
def model(request, use_classifier):
    return request.param


def reference_run(model, idx_dir, tmp_path_factory):
    """(folder, history) of an uninterrupted run of `model`'s test configuration (with the classifier
    cache set), trained once per run of the suite for the tests that read it."""
    def make(folder):
        history = loop.fit(config(model, idx_dir, folder / "run"), log=quiet)
        (folder / "history.json").write_text(json.dumps(history))

    folder = made_once(tmp_path_factory, f"reference_{model}", make)
    return folder / "run", json.loads((folder / "history.json").read_text())


@pytest.fixture
def reference(model, idx_dir, tmp_path_factory):
    return reference_run(model, idx_dir, tmp_path_factory)


def test_an_epoch_writes_the_run_folder(model, reference, idx_dir, tmp_path):
    c = config(model, idx_dir, tmp_path / "run")
    run, history = reference
    built = tasks.make(c, data.load_arrays("mnist", idx_dir)).build(3)
    names = built.loss_names
    exports = sorted(built.exports())
    for name in ("config.json", "losses.csv", "epochs.csv", "loss_curves.png", "checkpoint.npz",
                 "samples/epoch_001.png", "samples/epoch_002.png", *(f"{e}.keras" for e in exports)):
        assert (run / name).is_file(), name
    header = (run / "losses.csv").read_text().splitlines()[0].split(",")
    assert header == ["step", "epoch", *names]
    epochs = rundir.read_epochs(str(run))
    for name in names:
        assert len(history[name]) == 6 and np.all(np.isfinite(history[name]))
        assert epochs[1][name] == pytest.approx(np.mean(history[name][3:]), rel=1e-5)
    if model == "cyclegan":
        # the weighted total is the terms with the paper's weights, step by step
        terms = np.array([history[t] for t in ("adv_a2b", "adv_b2a", "cycle_a", "cycle_b", "identity_a", "identity_b")])
        assert history["g_loss"] == pytest.approx(np.array([1, 1, 10, 10, 5, 5]) @ terms, rel=1e-4)
    if model == "srgan":
        assert history["g_loss"] == pytest.approx(np.array(history["content"]) + 1e-3 * np.array(history["adversarial"]),
                                                  rel=1e-4)
    # the saved generators are the checkpointed ones, loaded in a process that cannot import keras_gan
    state, meta = checkpoint.load(str(run))
    assert meta["epoch"] == 2
    built.set_state(state)
    paths = [str(run / f"{e}.keras") for e in exports]
    hr = np.random.default_rng(1).uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32)
    lr = transforms.downsample(hr, 4)
    np.save(tmp_path / "hr.npy", hr)
    np.save(tmp_path / "lr.npy", lr)
    result = subprocess.run([sys.executable, "-c", HIDDEN + OUTPUTS, str(tmp_path), *paths],
                            capture_output=True, text=True, timeout=300, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]
    outputs = json.loads(result.stdout.strip().splitlines()[-1])
    for name, path in zip(exports, paths):
        network = built.exports()[name]
        x = lr if network.inputs[0].shape[1] == 7 else hr
        expected = keras.ops.convert_to_numpy(network(x, training=False))
        assert np.asarray(outputs[path]) == pytest.approx(expected, abs=1e-5), name


HIDDEN = NO_KERAS_GAN.split("import keras, numpy as np")[0]  # a process in which keras_gan cannot be imported
OUTPUTS = """
import os
import keras, numpy as np
folder, paths = sys.argv[1], sys.argv[2:]
out = {}
for path in paths:
    model = keras.models.load_model(path)
    x = np.load(os.path.join(folder, "lr.npy" if model.inputs[0].shape[1] == 7 else "hr.npy"))
    out[path] = keras.ops.convert_to_numpy(model(x)).tolist()
assert not any(m.startswith("keras_gan") for m in sys.modules)
print(json.dumps(out))
"""


class StopInEpoch2(callbacks.RunCallback):
    def on_step_end(self, run, step, logs):
        if logs["epoch"] == 2:
            raise KeyboardInterrupt


def test_resumed_runs_continue_exactly(model, reference, idx_dir, tmp_path, monkeypatch):
    # the pools' images and random state, the learning-rate schedule's step count and BatchNorm's
    # statistics all come back: the same losses to the last bit
    # (stopped, not extended: CycleGAN's decay is planned over --epochs, so a longer run decays later)
    folder, reference = reference
    with pytest.raises(KeyboardInterrupt):
        loop.fit(config(model, idx_dir, tmp_path / "b"), log=quiet, callbacks=[StopInEpoch2()])
    # SRGAN's content network comes from the checkpoint: resuming needs no classifier in the cache
    monkeypatch.setenv("KERAS_GAN_CACHE", str(tmp_path / "empty_cache"))
    resumed = loop.fit(config(model, idx_dir, tmp_path / "b"), resume=True, log=quiet)
    names = [k for k in reference if k != "epochs"]
    assert all(resumed[k] == reference[k] for k in names)
    a, b = checkpoint.load(str(folder))[0], checkpoint.load(str(tmp_path / "b"))[0]
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    if model == "cyclegan":
        assert a["pool_a/images"].shape == (48, 28, 28, 1)  # 6 steps of 8 fakes, in a pool of 50
    if model == "srgan":
        assert any(k.startswith("features/") for k in a)  # the frozen content network travels with the run


def test_the_cyclegan_learning_rate_decays_over_the_second_half(idx_dir, tmp_path, use_classifier):
    c = config("cyclegan", idx_dir, tmp_path / "r", epochs=4, steps_per_epoch=2)
    model = tasks.make(c, data.load_arrays("mnist", idx_dir)).build(2)
    optimizer = model.combined.optimizer
    rates = []
    for step in range(9):
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    assert rates == pytest.approx([2e-4] * 5 + [1.5e-4, 1e-4, 0.5e-4, 0.0])


def test_a_nan_loss_stops_the_run_before_writing(idx_dir, tmp_path, monkeypatch):
    from keras_gan.models import cyclegan

    real = cyclegan.CycleGAN.train_step
    calls = []

    def poisoned(self, a, b):
        calls.append(1)
        losses = real(self, a, b)
        return {**losses, "cycle_b": float("nan")} if len(calls) == 5 else losses

    monkeypatch.setattr(cyclegan.CycleGAN, "train_step", poisoned)
    with pytest.raises(DivergenceError, match="epoch 2, step 2: cycle_b is nan"):
        loop.fit(config("cyclegan", idx_dir, tmp_path / "r"), log=quiet)
    assert checkpoint.load_meta(str(tmp_path / "r"))["epoch"] == 1


def test_mixed_precision_trains_and_saves_float32_generators(idx_dir, tmp_path, use_classifier):
    import keras

    for model in ("cyclegan", "srgan"):
        history = loop.fit(config(model, idx_dir, tmp_path / model, epochs=1, precision="mixed_bfloat16"), log=quiet)
        assert np.all(np.isfinite(history["g_loss"]))
        name = "generator_a2b.keras" if model == "cyclegan" else "generator.keras"
        g = keras.models.load_model(tmp_path / model / name)
        assert all(layer.dtype_policy.name == "float32" for layer in g.layers)


@pytest.mark.parametrize("kw, message", [
    (dict(model="cyclegan", eval_every=1), "Leave --eval_every at 0"),
    (dict(model="cyclegan", sample_cols=4), "--sample_cols must be 6"),
    (dict(model="srresnet", n_critic=2), "--n_critic must be 1"),
    (dict(model="srgan", scale=3), "--scale must be 2, 4 or 8"),
    (dict(model="srgan", scale=8), "divides by 8; mnist's are 28x28"),
    (dict(model="cyclegan", filters=0), "--filters must be a positive integer"),
])
def test_settings_they_refuse(kw, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(dataset="mnist", **kw)


# --- the commands ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(idx_dir, tmp_path_factory, classifier_cache):
    folder = tmp_path_factory.mktemp("image_runs")  # copies of the reference runs: the tests write beside them
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_GAN_CACHE", str(classifier_cache))
        for model in ("cyclegan", "srresnet"):
            shutil.copytree(reference_run(model, idx_dir, tmp_path_factory)[0], folder / model)
    images = data.load_arrays("mnist", idx_dir).x_test[:5]
    np.save(folder / "images.npy", images)
    return folder, images


def test_translate_writes_outputs_beside_inputs(trained, capsys):
    folder, images = trained
    edges = transforms.edges(images)
    np.save(folder / "edges.npy", edges)
    g = folder / "cyclegan" / "generator_a2b.keras"
    assert translate.main(["translate", f"--generator={g}", f"--images={folder / 'edges.npy'}",
                           f"--out={folder / 't.png'}", f"--npy={folder / 't.npy'}"]) == 0
    import keras

    expected = np.asarray(keras.models.load_model(g)(pipeline.to_unit_range(edges)))
    assert np.load(folder / "t.npy") == pytest.approx(expected, abs=1e-5) and (folder / "t.png").is_file()
    # --edges makes the same edge maps from the images themselves
    assert translate.main(["translate", f"--generator={g}", f"--images={folder / 'images.npy'}", "--edges",
                           f"--out={folder / 'e.png'}", f"--npy={folder / 'e.npy'}"]) == 0
    assert np.array_equal(np.load(folder / "e.npy"), np.load(folder / "t.npy"))
    assert "5 rows of input, output, real" in capsys.readouterr().out


def test_upscale_writes_bicubic_and_outputs(trained, capsys):
    folder, images = trained
    g = folder / "srresnet" / "generator.keras"
    small = transforms.downsample(pipeline.to_unit_range(images), 4)
    np.save(folder / "small.npy", small)
    assert upscale.main(["upscale", f"--generator={g}", f"--images={folder / 'small.npy'}",
                         f"--npy={folder / 'u.npy'}", f"--out={folder / 'u.png'}"]) == 0
    assert upscale.main(["upscale", f"--generator={g}", f"--images={folder / 'images.npy'}", "--downsample",
                         f"--npy={folder / 'd.npy'}", f"--out={folder / 'd.png'}"]) == 0
    assert np.load(folder / "u.npy").shape == (5, 28, 28, 1)
    assert np.array_equal(np.load(folder / "u.npy"), np.load(folder / "d.npy"))
    assert "rows of input, bicubic, output, real" in capsys.readouterr().out


@pytest.mark.parametrize("which, images, message", [
    ("cyclegan/discriminator_a.keras", "images.npy", "it is a discriminator"),
    ("srresnet/generator.keras", "images.npy", "must hold the generator's inputs of 7x7x1, as (N, H, W, C)"),
    ("cyclegan/generator_a2b.keras", "missing.npy", "file not found"),
    ("cyclegan/generator_a2b.keras", "bad.npy", "with values in [-1, 1], or uint8 pixels 0..255; got range [3, 3]"),
    ("cyclegan/generator_a2b.keras", "text.npy", "cannot read it as an .npy array of numbers"),
])
def test_bad_inputs_get_one_line(trained, which, images, message, capsys):
    folder, _ = trained
    np.save(folder / "bad.npy", np.full((2, 28, 28), 3.0, np.float32))
    (folder / "text.npy").write_text("not an array")
    command = upscale if which.startswith("srresnet") else translate
    assert command.main(["x", f"--generator={folder / which}", f"--images={folder / images}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_a_noise_generator_is_sent_to_generate(run_dir, trained, capsys):
    folder, _ = trained
    assert translate.main(["x", f"--generator={run_dir / 'generator.keras'}", f"--images={folder / 'images.npy'}"]) == 2
    assert "python -m keras_gan.generate" in capsys.readouterr().err


def test_generate_sends_an_image_generator_to_translate(trained, capsys):
    from keras_gan import generate

    folder, _ = trained
    assert generate.main(["generate", f"--generator={folder / 'cyclegan' / 'generator_a2b.keras'}"]) == 2
    assert "python -m keras_gan.translate" in capsys.readouterr().err


def test_srgan_starts_from_a_trained_srresnet(trained, idx_dir, tmp_path, use_classifier):
    """--init_generator: G's first weights are those of the SRResNet run's generator.keras (the file or its
    folder); its discriminator is new. A resumed run takes G from its checkpoint and needs the file no more."""
    import keras

    folder, _ = trained
    saved = keras.models.load_model(folder / "srresnet" / "generator.keras").get_weights()
    arrays = data.load_arrays("mnist", idx_dir)
    for source in (folder / "srresnet" / "generator.keras", folder / "srresnet"):
        c = config("srgan", idx_dir, tmp_path / "r", init_generator=str(source))
        lines = []
        g = tasks.make(c, arrays, log=lines.append).build(3).generator
        assert all(np.array_equal(a, b) for a, b in zip(g.get_weights(), saved)) and len(saved) == len(g.weights)
        assert f"the generator starts from {source}" in lines
    fresh = tasks.make(config("srgan", idx_dir, tmp_path / "r"), arrays).build(3).generator
    assert not all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), saved))

    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "generator.keras").write_bytes((folder / "srresnet" / "generator.keras").read_bytes())
    with pytest.raises(KeyboardInterrupt):
        loop.fit(config("srgan", idx_dir, tmp_path / "b", init_generator=str(copy)), log=quiet,
                 callbacks=[StopInEpoch2()])
    (copy / "generator.keras").unlink()
    lines = []
    loop.fit(config("srgan", idx_dir, tmp_path / "b", init_generator=str(copy)), resume=True, log=lines.append)
    assert not any("the generator starts from" in str(line) for line in lines)  # it continues from its checkpoint
    assert checkpoint.load_meta(str(tmp_path / "b"))["epoch"] == 2


@pytest.mark.parametrize("kw, message", [
    (dict(filters=8), r"its network \(\d+ weights, [\d,]+ parameters\) does not match this run's generator"),
    (dict(init_generator="nowhere/generator.keras"), "file not found; pass the generator.keras of a finished run"),
])
def test_a_generator_that_cannot_start_srgan_is_explained(trained, idx_dir, tmp_path, use_classifier, kw, message):
    folder, _ = trained
    c = config("srgan", idx_dir, tmp_path / "r", **{"init_generator": str(folder / "srresnet"), **kw})
    with pytest.raises(ConfigError, match=message):
        loop.fit(c, log=quiet)
    assert not (tmp_path / "r" / "checkpoint.npz").exists()


def test_only_srgan_takes_a_starting_generator(tmp_path):
    with pytest.raises(ConfigError, match="--init_generator starts SRGAN's generator from a trained SRResNet"):
        TrainConfig(model="srresnet", dataset="mnist", init_generator=str(tmp_path))
