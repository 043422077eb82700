"""Training under tf.distribute: the package's losses scale themselves per replica, so a step under
MirroredStrategy on two logical CPU devices moves the weights as one device does.

Logical devices can only be made before TensorFlow starts its runtime, so the check runs in a new
process (the script below), which compares both in one run.
"""

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, os
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np
    from keras_gan import networks
    from keras_gan.gan import GAN

    def run(strategy, penalty):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            g = networks.build_generator()
            d = networks.build_discriminator(dropout=0.0)
            loss = "wasserstein" if penalty == "gradient_penalty" else "non_saturating"
            gan = GAN(g, d, loss=loss, penalty=penalty, label_smoothing=0.9 if loss != "wasserstein" else 1.0,
                      d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05))
        rng = np.random.default_rng(1)
        real = rng.uniform(-1, 1, (16, 784)).astype("float32")
        z1, z2 = (rng.uniform(-1, 1, (16, 10)).astype("float32") for _ in range(2))
        d_loss = gan.discriminator_step(real, z1)
        g_loss = gan.generator_step(z2)
        return d_loss, g_loss, [w.numpy() for w in d.weights], [w.numpy() for w in g.weights]

    out = {}
    for penalty in ("none", "gradient_penalty"):
        one = run(tf.distribute.get_strategy(), penalty)
        two = run(tf.distribute.MirroredStrategy(["/CPU:0", "/CPU:1"]), penalty)
        out[penalty] = {
            "losses": [one[0], one[1], two[0], two[1]],
            "d_gap": float(max(np.abs(a - b).max() for a, b in zip(one[2], two[2]))),
            "g_gap": float(max(np.abs(a - b).max() for a, b in zip(one[3], two[3]))),
        }
    print("RESULT", json.dumps(out))
""")


def test_a_mirrored_step_moves_the_weights_as_one_device_does(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.split("RESULT", 1)[1])
    for penalty, r in result.items():
        d_one, g_one, d_two, g_two = r["losses"]
        # Each replica sees the whole batch here (train_on_batch with plain arrays): the reported
        # losses and the summed gradients equal one device's only if each replica's loss is divided by two.
        assert abs(d_one - d_two) < 1e-5 * max(1, abs(d_one)) and abs(g_one - g_two) < 1e-5 * max(1, abs(g_one)), penalty
        assert r["d_gap"] < 1e-6 and r["g_gap"] < 1e-6, (penalty, r)
