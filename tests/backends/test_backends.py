"""The package on Keras's other backends, each in processes of its own (Keras picks its backend once per
process) where `import tensorflow` fails (without_tensorflow.py): the family trains on JAX, and
resumes exactly; the train, generate and evaluate commands run there; the sampling commands run on
JAX and PyTorch, equal to TensorFlow's outputs; the frozen-discriminator trap is caught on every
backend.

On JAX and PyTorch the package's own tests run again (a chosen set: each preset's steps, an epoch
end to end, exact resume, the penalty by hand), in a pytest of their own; this file checks that every
one of them ran and passed there."""

import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
from xml.etree import ElementTree

import keras
import numpy as np
import pytest
from keras_gan import backend
from keras_gan.data import folders, pipeline
from keras_gan.inference import export
from keras_gan.errors import ConfigError
from keras_gan.io import keras_files as saving
from keras_gan.runs import checkpoint
from keras_gan.models import cyclegan, presets, srgan
from keras_gan.training import strategies

ROOT = pathlib.Path(__file__).resolve().parents[2]
WITHOUT_TF = str(pathlib.Path(__file__).with_name("without_tensorflow.py"))
# XLA's backend optimizations off: JAX's processes here compile many small programs and run each a few
# times, and compiling them unoptimized takes about a third less time (the same arithmetic, less tuned
# machine code). PyTorch on one thread: its small models here take a fifth less CPU so.
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")},  # its pytest is no worker
       "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu",
       "XLA_FLAGS": "--xla_backend_optimization_level=0", "OMP_NUM_THREADS": "1"}

# The package's tests that run again on JAX: which weights each step moves (D's step D alone, G's G
# alone: the deck, vanilla and wgan_gp), an epoch end to end with its saved files (vanilla, cgan, dcgan
# and cyclegan; wgan_gp trains two in its resume test), exact resume (wgan_gp: n_critic,
# the penalty's seeds), the frozen-D trap, BatchNorm in a frozen D, G's BatchNorm statistics written
# back from the jitted call that makes D's fakes, the gradient penalty against hand computations,
# data parallel on two CPU devices (dcgan, against its one-device epoch), mixed_float16 (wgan_gp: loss
# scaling, and the critic's float32 score). JAX compiles each model's step on its first call, which is
# most of what these cost (about 80 s of CPU).
ON_JAX = [
    "tests/models/test_gan.py::test_the_keras_2_order_is_caught_and_the_package_order_trains_d",
    "tests/models/test_gan.py::test_batchnorm_in_the_frozen_discriminator_runs_in_inference_mode",
    "tests/models/test_gan.py::test_fakes_in_training_mode_update_g_batchnorm_statistics_as_an_eager_call_does",
    "tests/models/test_networks.py::test_dropout_layers_carry_the_seed_keras_would_draw_for_them",
    "tests/models/test_penalties.py",
    *(f"tests/models/test_presets.py::test_each_step_changes_only_its_own_model[{m}]"
      for m in ("vanilla", "wgan_gp")),
    *(f"tests/models/test_presets.py::test_one_epoch_end_to_end_and_the_saved_generator_round_trips[{m}]"
      for m in ("vanilla", "cgan", "dcgan")),  # wgan_gp: two epochs in its resume test
    "tests/models/test_presets.py::test_resumed_runs_continue_exactly[wgan_gp]",
    "tests/training/test_image_members.py::test_an_epoch_writes_the_run_folder[cyclegan]",
    "tests/training/test_replicas.py::test_jax_data_parallel_on_two_devices_trains_as_one_device",
    "tests/training/test_precision.py::test_every_preset_trains_an_epoch_in_mixed_precision[wgan_gp-mixed_float16]",
    "tests/training/test_precision.py::test_the_critics_score_is_float32_beyond_float16s_range[wgan_gp]",
]
# On PyTorch, the same but for data parallel, and cgan's exact resume too (its Dropout: the package's
# Dropout layers carry their own seed, whose state the checkpoint holds). Nothing to compile: about 25 s
# of CPU.
ON_TORCH = [test for test in ON_JAX if "test_replicas.py" not in test] + [
    "tests/models/test_presets.py::test_resumed_runs_continue_exactly[cgan]",
]


def run(args, backend: str, timeout: int = 540, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**ENV, "KERAS_BACKEND": backend, **kwargs.pop("env", {})}, **kwargs)


def pytest_on(backend: str, tests: list[str], tmp_path, classifier_cache, without_tensorflow=False,
              env=None) -> list[str]:
    """Runs `tests` under `backend` in a pytest of their own (with this one's evaluation classifier and
    `env`; in a process where `import tensorflow` fails if asked); returns the tests it ran, after
    checking that it ran every one named, skipped none and all passed."""
    report = tmp_path / "report.xml"
    done = run([*([WITHOUT_TF, "pytest"] if without_tensorflow else ["-m", "pytest"]), "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'tmp'}", "-o", "addopts=",
                f"--junitxml={report}", *tests], backend, timeout=580,
               env={"KERAS_GAN_TEST_CLASSIFIER": str(classifier_cache), **(env or {})})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    suite = ElementTree.parse(report).getroot().find("testsuite")
    cases = suite.findall("testcase")
    ran = [f"{c.get('classname').replace('.', '/')}.py::{c.get('name')}" for c in cases]
    assert all(c.find("skipped") is None and c.find("failure") is None and c.find("error") is None for c in cases)
    for test in tests:
        assert test in ran if "::" in test else any(r.startswith(test + "::") for r in ran), test
    return ran
def test_the_family_trains_and_resumes_exactly_on_jax_without_tensorflow(tmp_path, classifier_cache):
    """The chosen tests, on JAX, where TensorFlow cannot be imported: nothing of training needs it."""
    pytest_on("jax", ON_JAX, tmp_path, classifier_cache, without_tensorflow=True,
              env={"JAX_NUM_CPU_DEVICES": "2"})  # for data parallel; the other tests use the first


def test_the_family_trains_and_resumes_exactly_on_pytorch_without_tensorflow(tmp_path, classifier_cache):
    pytest_on("torch", ON_TORCH, tmp_path, classifier_cache, without_tensorflow=True)


def test_the_train_command_where_tensorflow_is_not_installed(idx_dir, tmp_path):
    """On JAX, in a process where `import tensorflow` fails: the train command, the deck in
    mixed_bfloat16 on two CPU devices (the command makes them before JAX starts), TensorBoard skipped
    in one line. (Sampling and scoring there: the sampling test.)"""
    run_dir = tmp_path / "run"
    trained = run([WITHOUT_TF, "keras_gan.train", "--dataset=mnist", f"--data_dir={idx_dir}", "--batch_size=32",
                   "--steps_per_epoch=4", "--epochs=2", "--precision=mixed_bfloat16", "--strategy=mirrored",
                   "--cpu_replicas=2", f"--output_dir={run_dir}"], "jax")
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "TensorBoard summaries are written through TensorFlow, which is not installed: skipped" in trained.stdout
    assert "(batch of 32 on 2 replicas)" in trained.stdout
    assert "epoch 2/2" in trained.stdout and (run_dir / "samples" / "epoch_002.png").is_file()
    assert len((run_dir / "epochs.csv").read_text().splitlines()) == 3 and not (run_dir / "tensorboard").exists()
    # Its generator.keras loads here, on TensorFlow, holding the weights the run's checkpoint holds.
    state = checkpoint.load(str(run_dir))[0]
    saved = saving.load_generator_model(str(run_dir / "generator.keras")).get_weights()
    assert len(saved) == len([k for k in state if k.startswith("generator/")]) > 0
    for i, weight in enumerate(saved):
        np.testing.assert_array_equal(weight, state[f"generator/{i}"])


@pytest.fixture
def on_jax_without_tensorflow(monkeypatch):
    """This process as keras_gan.backend sees a JAX process without TensorFlow."""
    monkeypatch.setattr(backend, "name", lambda: "jax")
    monkeypatch.setattr(backend, "tensorflow", lambda: None)


def test_what_needs_tensorflow_says_so_in_one_line(on_jax_without_tensorflow, monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match=r"^a folder dataset \(--dataset=folder\) needs TensorFlow, which is not "
                                          r"installed here \(Keras runs on jax\): pip install tensorflow"):
        folders.load(str(tmp_path), (16, 16, 3))
    for strategy, replicas in (("multi_worker", 0), ("default", 2)):
        with pytest.raises(ConfigError, match=r"is TensorFlow's tf.distribute; under KERAS_BACKEND=jax a run trains on "
                                              r"several devices of one machine with --strategy=mirrored"):
            strategies.make_strategy(strategy, replicas)
    with monkeypatch.context() as torch:
        torch.setattr(backend, "name", lambda: "torch")
        with pytest.raises(ConfigError, match="under KERAS_BACKEND=torch a run trains on one device: leave --strategy out"):
            strategies.make_strategy("mirrored", 2)
    with pytest.raises(ConfigError, match=r"^export writes a TensorFlow SavedModel and a TFLite file through Keras's "
                                          r"TensorFlow backend; run it with KERAS_BACKEND=tensorflow \(this run's is jax\)"):
        export.export_generator(export.ExportRequest(generator=str(tmp_path / "generator.keras"), out=str(tmp_path / "x")))
    one = strategies.make_strategy("default")
    assert one.num_replicas_in_sync == 1 and strategies.is_chief(one) and not strategies.is_multi_worker(one)
    batches = pipeline.Pipeline(np.arange(4 * 6, dtype=np.uint8).reshape(4, 6), np.arange(4)).epoch(
        batch_size=2, seed=0, epoch=1)
    (x, y), (x2, y2) = list(batches)  # NumPy batches, made without TensorFlow, in the epoch's order
    order = pipeline.epoch_order(4, 0, 1)
    np.testing.assert_array_equal(np.concatenate([x, x2]), pipeline.to_unit_range(
        np.arange(24, dtype=np.uint8).reshape(4, 6)[order]))
    np.testing.assert_array_equal(np.concatenate([y, y2]), order)


SAMPLING = """
    import sys
    from keras_gan import evaluate, generate, translate, upscale
    folder, idx_dir = sys.argv[1:]
    codes = [
        generate.main(["generate", f"--generator={folder}/cgan.keras", "--num=10", "--seed=3",
                       f"--npy={folder}/generate.npy", f"--out={folder}/generate.png"]),
        translate.main(["translate", f"--generator={folder}/a2b.keras", f"--images={folder}/a.npy",
                        f"--npy={folder}/translate.npy", f"--out={folder}/translate.png"]),
        upscale.main(["upscale", f"--generator={folder}/sr.keras", f"--images={folder}/lr.npy",
                      f"--npy={folder}/upscale.npy", f"--out={folder}/upscale.png"]),
        evaluate.main(["evaluate", f"--generator={folder}/cgan.keras", "--num_samples=64", "--dataset=mnist",
                       f"--data_dir={idx_dir}", "--metrics=fid,kid,is", f"--out={folder}/evaluate.json"]),
    ]
    sys.exit(max(codes))
"""


@pytest.fixture(scope="module")
def generators(tmp_path_factory, idx_dir, classifier_cache):
    """A conditional generator, a CycleGAN generator and an SRResNet, saved as the package saves them,
    with their inputs, and TensorFlow's outputs of the sampling commands (in "tensorflow/")."""
    folder = tmp_path_factory.mktemp("generators")
    keras.utils.set_random_seed(0)
    generator, _ = presets.get("cgan").build_networks(noise_dim=100, image_shape=(28, 28, 1), num_classes=10)
    saving.save_network(generator, str(folder / "cgan.keras"))
    saving.save_network(cyclegan.build_networks((28, 28, 1), filters=8, blocks=1)[0], str(folder / "a2b.keras"))
    saving.save_network(srgan.srresnet_generator((7, 7, 1), scale=4, filters=8, blocks=1), str(folder / "sr.keras"))
    rng = np.random.default_rng(0)
    np.save(folder / "a.npy", rng.integers(0, 256, (4, 28, 28, 1), dtype=np.uint8))
    np.save(folder / "lr.npy", rng.integers(0, 256, (4, 7, 7, 1), dtype=np.uint8))
    reference = link_inputs(folder, "tensorflow")
    with pytest.MonkeyPatch.context() as mp:  # TensorFlow's outputs, in this process (Keras runs on it here)
        mp.setenv("KERAS_GAN_CACHE", str(classifier_cache))
        mp.setattr("sys.argv", ["-c", str(reference), idx_dir])
        namespace = {"__name__": "reference"}
        exec(textwrap.dedent(SAMPLING).replace("sys.exit(max(codes))", "RESULT = max(codes)"), namespace)
    assert namespace["RESULT"] == 0
    return folder


def link_inputs(generators, backend: str):
    """`generators`/`backend`, a folder holding links to the generators and their inputs."""
    folder = generators / backend
    folder.mkdir()
    for name in ("cgan.keras", "a2b.keras", "sr.keras", "a.npy", "lr.npy"):
        (folder / name).symlink_to(generators / name)
    return folder


def sample(generators, backend: str, idx_dir, classifier_cache):
    """Runs the sampling commands on `backend`, where TensorFlow cannot be imported, into
    `generators`/`backend`; returns that folder."""
    folder = link_inputs(generators, backend)
    done = run([WITHOUT_TF, "-c", textwrap.dedent(SAMPLING), str(folder), idx_dir], backend,
               env={"KERAS_GAN_CACHE": str(classifier_cache)})
    assert done.returncode == 0, (backend, done.stderr[-3000:])
    return folder


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_the_sampling_commands_on_another_backend(backend, generators, idx_dir, classifier_cache):
    """generate, translate, upscale and evaluate, in one process on `backend` where TensorFlow cannot be
    imported, give TensorFlow's numbers: the images within 1e-5 (different kernels round differently),
    the scores within 1e-4."""
    folder, reference = sample(generators, backend, idx_dir, classifier_cache), generators / "tensorflow"
    for output in ("generate", "translate", "upscale"):
        got, want = np.load(folder / f"{output}.npy"), np.load(reference / f"{output}.npy")
        assert got.shape == want.shape and np.abs(got - want).max() < 1e-5, output
    got, want = (json.loads((f / "evaluate.json").read_text()) for f in (folder, reference))
    for score in ("fid", "kid", "is"):
        assert got[score] == pytest.approx(want[score], rel=1e-4, abs=1e-4), score


def test_backend_choices_are_in_one_place():
    """Only keras_gan/backend.py, the tf.data and tf.distribute edges, the folder decoder, export and the
    bench import TensorFlow; the models and the training step do not."""
    allowed = {"backend.py", "data/pipeline.py", "data/folders.py", "training/strategies.py", "inference/export.py",
               "benchmarks/step.py", "benchmarks/floor.py", "models/replicas.py", "training/speed.py",
               "training/callbacks.py"}
    found = set()
    for path in (ROOT / "keras_gan").rglob("*.py"):
        text = path.read_text()
        if re.search(r"^\s*(import tensorflow\b|from tensorflow\b)", text, re.M) or "backend.tensorflow()" in text \
                or "require_tensorflow(" in text:
            found.add(str(path.relative_to(ROOT / "keras_gan")))
    assert found <= allowed, sorted(found - allowed)


def test_an_install_without_tensorflow_asks_for_none_of_its_packages():
    """KERAS_GAN_WITHOUT_TENSORFLOW=1 pip install: setup.py drops TensorFlow and what needs it, and only them."""
    import runpy

    requirements = runpy.run_path(str(ROOT / "setup.py"), run_name="setup")["requirements"]
    full, alone = requirements(False), requirements(True)
    assert {"keras>=3.15,<4", "numpy", "matplotlib", "Pillow", "absl-py"} <= set(alone)
    assert sorted(set(full) - set(alone)) == ["importlib_resources", "tensorboard", "tensorflow-datasets",
                                              "tensorflow>=2.18"]
