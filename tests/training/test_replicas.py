"""Training on two CPU devices (--strategy=mirrored --cpu_replicas=2): under tf.distribute, and under
JAX through keras.distribution's DataParallel.

Logical devices can only be made before TensorFlow starts its runtime, so each TensorFlow check runs in a
new process, which trains on one device and on two in the same run and prints what the test compares.
JAX's CPU devices too are made before it starts: its test runs in the JAX backend tests' own pytest
(tests/backends), which starts with two of them.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from keras_gan import backend
from keras_gan.errors import ConfigError
from keras_gan.models import presets
from keras_gan.runs import checkpoint
from keras_gan.runs.config import TrainConfig
from keras_gan.training import callbacks, loop, strategies

from tests.models.test_presets import one_epoch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repository
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def run_script(code: str, *args: str, timeout: int = 540, env=None) -> dict:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=timeout, env={**ENV, **(env or {})}, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.split("RESULT", 1)[1])


STEP = """
    import json
    from keras_gan.training import strategies
    strategies.configure_cpu_replicas(2)
    import keras, numpy as np, tensorflow as tf
    from keras_gan.models import networks
    from keras_gan.models.gan import GAN

    def run(strategy, penalty):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            loss = "wasserstein" if penalty == "gradient_penalty" else "non_saturating"
            gan = GAN(networks.build_generator(batch_norm=True), networks.build_discriminator(dropout=0.0),
                      loss=loss, penalty=penalty, label_smoothing=0.9 if loss != "wasserstein" else 1.0,
                      d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05))
        rng = np.random.default_rng(1)
        real = rng.uniform(-1, 1, (16, 784)).astype("float32")
        z1, z2 = (rng.uniform(-1, 1, (16, 10)).astype("float32") for _ in range(2))
        d0, g0 = [w.numpy() for w in gan.network.weights], [w.numpy() for w in gan.generator.weights]
        d_loss = gan.discriminator_step(real, z1)
        d1, g1 = [w.numpy() for w in gan.network.weights], [w.numpy() for w in gan.generator.weights]
        g_loss = gan.generator_step(z2)
        d2, g2 = [w.numpy() for w in gan.network.weights], [w.numpy() for w in gan.generator.weights]
        same = lambda a, b: all(np.array_equal(x, y) for x, y in zip(a, b))
        return {"losses": [d_loss, g_loss], "d_step_left_g": same(g0, g1), "g_step_left_d": same(d1, d2),
                "d_moved": not same(d0, d1), "g_moved": not same(g1, g2), "weights": d2 + g2}

    out = {}
    for penalty in ("none", "gradient_penalty"):
        one = run(tf.distribute.get_strategy(), penalty)
        two = run(strategies.make_strategy("mirrored", 2), penalty)
        gap = max(float(np.abs(a - b).max()) for a, b in zip(one.pop("weights"), two.pop("weights")))
        out[penalty] = {"one": one, "two": two, "gap": gap}
    print("RESULT", json.dumps(out))
"""


def test_a_mirrored_step_moves_the_weights_as_one_device_does():
    """Plain SGD, so that a doubled gradient would show; BatchNorm in G; with and without the gradient
    penalty. Each replica trains on its half of the global batch (D's: its real images then as many
    fakes), the losses divide themselves by the replicas, BatchNorm is synchronized and the penalty's
    coefficients are the global batch's: the weights end where one device puts them, and each step
    moves only its own model."""
    result = run_script(STEP)
    for penalty, r in result.items():
        one, two = r["one"], r["two"]
        assert one["losses"] == pytest.approx(two["losses"], rel=1e-5, abs=1e-6), penalty
        assert r["gap"] < 1e-5, (penalty, r["gap"])
        for side in (one, two):
            assert side["d_step_left_g"] and side["g_step_left_d"] and side["d_moved"] and side["g_moved"], penalty


# Left to the presets whose per-replica code they share: vanilla_fashion and lsgan (the deck's networks
# with other sizes, another loss), vanilla_bn (the deck's with BatchNorm, whose synchronized statistics
# the step test above compares with one device's) and dcgan_paper (dcgan's BatchNorm and convolutions).
COVERED = ("vanilla_fashion", "lsgan", "vanilla_bn", "dcgan_paper")

FAMILY = """
    import json, os, sys, tempfile
    from keras_gan.training import strategies
    strategies.configure_cpu_replicas(2)
    import numpy as np
    from keras_gan.runs import checkpoint
    from keras_gan.training import loop
    from keras_gan.models import presets
    from keras_gan.training import tasks
    from keras_gan.runs.config import TrainConfig
    from tests.conftest import family_data, write_idx_dataset

    folder = tempfile.mkdtemp()
    write_idx_dataset(folder)
    out = {}
    # Every GAN of noise but those covered elsewhere (the image members step in IMAGE_STEPS; CycleGAN's
    # whole loop: test_workers.py); the critics' against one device: clipping, the penalty, n_critic.
    for model in [name for name, p in presets.PRESETS.items() if p.task == "noise" and name not in COVERED]:
        runs = {}
        for strategy in (("default", "mirrored") if model in ("wgan", "wgan_gp") else ("mirrored",)):
            config = TrainConfig(model=model, **{"dcgan_filters": 16, **family_data(model, folder)}, epochs=1,
                                 batch_size=16, steps_per_epoch=2, output_dir=os.path.join(folder, model + strategy),
                                 strategy=strategy, cpu_replicas=2 if strategy == "mirrored" else 0, tensorboard=False)
            history = loop.fit(config, log=lambda *_: None)
            gan = tasks.build_gan(config)
            gan.set_state(checkpoint.load(config.run_dir)[0])
            runs[strategy] = {"d": history["d_loss"], "g": history["g_loss"],
                              "d_updates": int(gan.discriminator.optimizer.iterations.numpy()), "n_critic": config.n_critic}
        out[model] = runs
    print("RESULT", json.dumps(out))
"""


def test_every_preset_trains_an_epoch_on_two_devices():
    """Every preset of its own networks or penalty trains under mirrored; those without Dropout (whose
    masks each replica draws for itself) give one device's losses, n_critic D updates per G update
    included."""
    result = run_script(FAMILY.replace("COVERED", repr(COVERED)))
    assert set(result) == {name for name, p in presets.PRESETS.items() if p.task == "noise"} - set(COVERED)
    for model, runs in result.items():
        two = runs["mirrored"]
        assert len(two["d"]) == 2 and all(abs(v) < 1e6 for v in two["d"] + two["g"]), model
        assert two["d_updates"] == 2 * two["n_critic"], model
        if "default" in runs:
            assert two["d"] == pytest.approx(runs["default"]["d"], rel=1e-4, abs=1e-5), model
            assert two["g"] == pytest.approx(runs["default"]["g"], rel=1e-4, abs=1e-5), model


def test_the_command_splits_the_cpu_itself(idx_dir, tmp_path):
    done = subprocess.run([sys.executable, "-m", "keras_gan.train", "--model=wgan_gp", "--dataset=mnist",
                           f"--data_dir={idx_dir}", "--epochs=1", "--steps_per_epoch=2", "--strategy=mirrored",
                           "--cpu_replicas=2", f"--output_dir={tmp_path / 'run'}"],
                          capture_output=True, text=True, timeout=300, env=ENV)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "(5 D updates and 1 G update of 64 on 2 replicas)" in done.stdout
    assert (tmp_path / "run" / "checkpoint.npz").is_file()


def test_bad_strategy_settings():
    with pytest.raises(ConfigError, match="--strategy must be one of default, mirrored, multi_worker"):
        TrainConfig(strategy="tpu")
    with pytest.raises(ConfigError, match="--cpu_replicas applies to --strategy=mirrored"):
        TrainConfig(cpu_replicas=2)


IMAGE_STEPS = """
    import json
    from keras_gan.training import strategies
    strategies.configure_cpu_replicas(2)
    import keras, numpy as np, tensorflow as tf
    from keras_gan.models import cyclegan
    from keras_gan.data import transforms
    from keras_gan.models import srgan

    def build(kind):
        sgd = lambda: keras.optimizers.SGD(0.05)
        if kind == "cyclegan":
            return cyclegan.CycleGAN(*cyclegan.build_networks(filters=4, blocks=1), optimizers=[sgd() for _ in range(3)])
        generator = srgan.srresnet_generator(filters=4, blocks=1)
        if kind == "srresnet":
            return srgan.SRGAN(generator, adversarial=False, optimizers=[sgd(), sgd()])
        image = keras.Input((28, 28, 1))
        features = keras.Model(image, keras.layers.Conv2D(4, 3, padding="same")(image))
        return srgan.SRGAN(generator, srgan.discriminator(filters=4, dense=8), features, optimizers=[sgd(), sgd()])

    def run(strategy, kind):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = build(kind)
        a, b = np.random.default_rng(1).uniform(-1, 1, (2, 8, 28, 28, 1)).astype("float32")
        parts = lambda: {k: [np.array(v) for v in vs] for k, vs in model._parts().items()}
        moved = lambda x, y: sorted(k for k in x if any(not np.array_equal(p, q) for p, q in zip(x[k], y[k])))
        before = parts()
        if kind == "cyclegan":
            d = dict(zip(("d_a_loss", "d_b_loss"), model.discriminator_step(a, b)))
            middle = parts()
            losses = {**d, **model.generator_step(a, b)}
        else:
            lr = transforms.downsample(a)
            d = {"d_loss": model.discriminator_step(lr, a)} if model.adversarial else {}
            middle = parts()
            losses = {**d, **model.generator_step(lr, a)}
        after = parts()
        return {"names": list(model.loss_names), "losses": losses, "d_step": moved(before, middle), "g_step": moved(middle, after),
                "weights": [w.tolist() for vs in after.values() for w in vs]}

    out = {}
    for kind in ("cyclegan", "srgan", "srresnet"):
        one, two = run(tf.distribute.get_strategy(), kind), run(strategies.make_strategy("mirrored", 2), kind)
        gap = max(float(np.abs(np.subtract(x, y)).max()) for x, y in zip(one.pop("weights"), two.pop("weights")))
        out[kind] = {"one": one, "two": two, "gap": gap}
    print("RESULT", json.dumps(out))
"""


def test_image_models_step_on_two_devices_as_on_one():
    """CycleGAN, SRGAN and SRResNet under mirrored on two logical CPU devices, with plain SGD so that
    a doubled gradient would show: each replica trains on its half of every batch (the combined models'
    several inputs and targets alike), Keras's losses divide themselves by the replicas and SRResNet's
    BatchNorm is synchronized, so every loss term and every weight ends where one device puts them;
    each discriminator step moves only the discriminators (and their optimizers), each generator step
    only the generators."""
    result = run_script(IMAGE_STEPS)
    for kind, r in result.items():
        one, two = r["one"], r["two"]
        assert set(one["losses"]) == set(two["losses"]) == set(one["names"]), kind
        for name, value in one["losses"].items():
            assert two["losses"][name] == pytest.approx(value, rel=1e-5, abs=1e-6), (kind, name)
        assert r["gap"] < 1e-5, (kind, r["gap"])
        assert one["d_step"] == two["d_step"] and one["g_step"] == two["g_step"], kind
        expected = {"cyclegan": (["d_a_optimizer", "d_b_optimizer", "discriminator_a", "discriminator_b"],
                                 ["g_optimizer", "generator_a2b", "generator_b2a"]),
                    "srgan": (["d_optimizer", "discriminator"], ["g_optimizer", "generator"]),
                    "srresnet": ([], ["g_optimizer", "generator"])}[kind]
        assert (two["d_step"], two["g_step"]) == (sorted(expected[0]), sorted(expected[1])), kind


MASKS = """
    import json
    from keras_gan.training import strategies
    strategies.configure_cpu_replicas(2)
    import keras, numpy as np, tensorflow as tf
    from keras_gan.models import replicas

    def dropout():
        return keras.Sequential([keras.Input((2000,)), keras.layers.Dropout(0.3, seed=3)])

    def masks(own):
        strategy = strategies.make_strategy("mirrored", 2)
        with strategy.scope():
            model = dropout()
        if own:
            replicas.own_dropout_masks(model)
        step = tf.function(lambda: strategy.run(lambda: model(tf.ones((1, 2000)), training=True)))
        return [np.asarray(m)[0] == 0 for m in strategy.experimental_local_results(step())]

    out = {}
    for own in (False, True):
        first, second = masks(own)
        out[str(own)] = {"equal": bool(np.array_equal(first, second)), "rates": [float(first.mean()), float(second.mean())]}
    # One device: a patched layer draws the masks an untouched one draws.
    plain, patched = dropout(), dropout()
    replicas.own_dropout_masks(patched)
    out["one_device_equal"] = all(np.array_equal(plain(tf.ones((4, 2000)), training=True),
                                                 patched(tf.ones((4, 2000)), training=True)) for _ in range(3))
    # The step of several replicas applies it to the model it trains.
    strategy = strategies.make_strategy("mirrored", 2)
    with strategy.scope():
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dropout(0.3), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
    replicas.train_on_batch(model, np.ones((4, 8), "float32"), np.ones((4, 1), "float32"))
    out["step_applies_it"] = bool(model.layers[0].seed_generator.per_replica)
    print("RESULT", json.dumps(out))
"""


def test_each_replica_draws_its_own_dropout_masks():
    out = run_script(MASKS)
    assert out["False"]["equal"]  # Keras's mirrored seed generator: the same mask on every replica
    assert not out["True"]["equal"]
    assert all(abs(rate - 0.3) < 0.05 for rate in out["True"]["rates"] + out["False"]["rates"])
    assert out["one_device_equal"] and out["step_applies_it"]


@pytest.mark.skipif(backend.configured() != "jax", reason="JAX's data parallel (tests/backends runs it on JAX)")
def test_jax_data_parallel_on_two_devices_trains_as_one_device(idx_dir, tmp_path, tmp_path_factory, monkeypatch):
    """Under JAX, --strategy=mirrored is Keras's DataParallel: every variable lives on both devices, each
    batch is split between them, and JAX compiles one program over the whole batch, so dcgan (BatchNorm on
    the batch's statistics in G's fakes and in D) trains as on one device, step by step."""
    import jax
    from keras.src.backend.jax import distribution_lib

    if len(jax.devices("cpu")) < 2:
        pytest.skip("JAX started with one CPU device: set JAX_NUM_CPU_DEVICES=2 (tests/backends does)")
    split = []
    distribute = distribution_lib.distribute_data_input

    def spy(batch, layout, batch_dim_name):  # what Keras's train_on_batch hands the step
        out = distribute(batch, layout, batch_dim_name)
        if batch is not None:  # (no sample weights)
            split.append((len(out.sharding.device_set), out.sharding.is_fully_replicated))
        return out

    monkeypatch.setattr(distribution_lib, "distribute_data_input", spy)
    placed = []

    class Placement(callbacks.RunCallback):
        def on_step_end(self, run, step, logs):
            placed.extend(len(v.value.sharding.device_set) for v in run.model.generator.weights + run.model.network.weights)

    config, one = one_epoch("dcgan", idx_dir, tmp_path_factory)
    two_config = TrainConfig(**{**config.values(with_folder=True), "output_dir": str(tmp_path / "two"),
                                "strategy": "mirrored", "cpu_replicas": 2})
    logged = []
    two = loop.fit(two_config, log=logged.append, callbacks=[Placement()])
    assert "(batch of 16 on 2 replicas)" in logged[0] and placed and set(placed) == {2}
    assert split and set(split) == {(2, False)}  # every batch of both models' steps, split in two
    for name in ("d_loss", "g_loss"):
        assert two[name] == pytest.approx(one[name], rel=1e-5, abs=1e-6), name
    state, reference = checkpoint.load(str(tmp_path / "two"))[0], checkpoint.load(config.run_dir)[0]
    assert state.keys() == reference.keys()
    for key in reference:  # G's and D's BatchNorm statistics included
        np.testing.assert_allclose(state[key], reference[key], rtol=1e-4, atol=1e-5, err_msg=key)
    with pytest.raises(ConfigError, match=r"^--cpu_replicas=3 must split the CPU before JAX starts \(it has 2 CPU "
                                          r"devices\): run python -m keras_gan.train, or set JAX_NUM_CPU_DEVICES=3"):
        strategies.make_strategy("mirrored", 3)
