"""Mixed precision: every preset trains under each Keras dtype policy, with float32 scores and losses,
loss scaling for float16, and saved generators that compute in float32."""

import subprocess
import sys

import keras
import numpy as np
import pytest
from keras_gan import train
from keras_gan.errors import ConfigError
from keras_gan.models import presets, sampling
from keras_gan.runs import checkpoint
from keras_gan.runs import folder as rundir
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop, tasks

from tests.models.test_presets import small

FAMILY = [name for name, p in presets.PRESETS.items() if p.task == "noise"]  # GANs of noise (tests/training/test_image_members.py: the rest)


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("model", FAMILY)
def test_every_preset_trains_an_epoch_in_mixed_precision(model, precision, idx_dir, tmp_path):
    # float16 products have no fast path on a CPU (a wgan_gp step of 16 took seconds): batches of 4
    config = small(model, idx_dir, tmp_path / "run", precision=precision,
                   **({"batch_size": 4} if precision == "mixed_float16" else {}))
    history = loop.fit(config, log=lambda *_: None)
    assert len(history["g_loss"]) == 2 and np.all(np.isfinite(history["d_loss"] + history["g_loss"]))
    gan = tasks.build_gan(config)
    compute = {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}[precision]
    assert gan.generator.layers[1].compute_dtype == compute and gan.network.layers[0].compute_dtype == compute
    assert all(v.dtype == "float32" for v in gan.generator.trainable_variables + gan.network.trainable_variables)
    scaled = isinstance(gan.discriminator.optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (precision == "mixed_float16") == isinstance(gan.combined.optimizer, keras.optimizers.LossScaleOptimizer)
    gan.set_state(checkpoint.load(str(tmp_path / "run"))[0])  # the checkpoint fits a model built the same way
    # The saved generator computes in float32 and gives the trained weights' images.
    saved = keras.models.load_model(tmp_path / "run" / rundir.GENERATOR)
    assert all(layer.compute_dtype == "float32" for layer in saved.layers if hasattr(layer, "compute_dtype"))
    labels = np.arange(6) if gan.conditional else None
    noise = sampling.make_noise(np.random.default_rng(0), 6, config.noise_dim, config.noise)
    images = sampling.decode(saved, noise, labels)
    assert images.dtype == np.float32 and np.all(np.isfinite(images))
    mixed = sampling.decode(gan.generator, noise, labels)  # the same weights computing in 16 bits
    assert mixed.dtype == np.float32 and np.abs(images - mixed).max() < 0.1


def test_mixed_precision_resumes_exactly(idx_dir, tmp_path):
    config = small("vanilla", idx_dir, tmp_path / "a", precision="mixed_bfloat16", epochs=2)
    whole = loop.fit(config, log=lambda *_: None)
    first = TrainConfig(**{**config.values(with_folder=True), "output_dir": str(tmp_path / "b"), "epochs": 1})
    loop.fit(first, log=lambda *_: None)
    resumed = loop.fit(TrainConfig(**{**first.values(with_folder=True), "epochs": 2}), resume=True,
                          log=lambda *_: None)
    assert resumed["d_loss"] == whole["d_loss"] and resumed["g_loss"] == whole["g_loss"]


@pytest.mark.parametrize("model", ["wgan_gp", "dcgan"])
def test_the_critics_score_is_float32_beyond_float16s_range(model):
    """A raw score of 1e5 overflows float16 (largest 65504): D's last layer computes in float32."""
    gan = tasks.build_gan(TrainConfig(model=model, precision="mixed_float16", dcgan_filters=16))
    last = gan.network.layers[-1]
    last.bias.assign(np.full((1,), 1e5, np.float32))
    x = np.zeros((2, 784) if model == "wgan_gp" else (2, 28, 28, 1), np.float32)
    score = gan.network(x)
    assert keras.backend.standardize_dtype(score.dtype) == "float32"
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(score)))
    d_loss, g_loss = gan.loss(score, score)
    expected = {"wgan_gp": (0.0, -1e5), "dcgan": (5e4, 0.0)}[model]  # Wasserstein; cross-entropy of logits
    assert (float(d_loss), float(g_loss)) == pytest.approx(expected, abs=1e-3)


def test_bad_precision_and_the_flag(capsys):
    with pytest.raises(ConfigError, match="--precision must be one of float32, mixed_bfloat16, mixed_float16"):
        TrainConfig(precision="float16")
    assert train.main(["train", "--precision=mixed_bfloat16", "--dry_run"]) == 0
    assert '"precision": "mixed_bfloat16"' in capsys.readouterr().out
    # The policy is set only while the networks are built: nothing else in the process changes.
    assert keras.config.dtype_policy().name == "float32"


def test_a_generator_saved_in_mixed_precision_loads_with_keras_alone(idx_dir, tmp_path):
    config = small("dcgan", idx_dir, tmp_path / "run", precision="mixed_bfloat16")
    loop.fit(config, log=lambda *_: None)
    code = ("import keras, numpy as np; g = keras.models.load_model(%r); "
            "x = g(np.zeros((2, 100), 'float32')); print(np.asarray(x).dtype, x.shape)") % str(tmp_path / "run" / rundir.GENERATOR)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[:1] == ["float32"]
