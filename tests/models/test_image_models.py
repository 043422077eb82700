"""CycleGAN and SRGAN: the networks, every loss term against a closed form computed from the models'
own outputs, which weights each step moves, the image pool, the learning-rate schedule and the
sub-pixel upsampling against NumPy."""

import keras
import numpy as np
import pytest
from keras_gan.data import transforms
from keras_gan.models import cyclegan, srgan

RNG = np.random.default_rng(0)


def images(n, shape=(28, 28, 1)):
    return RNG.uniform(-1, 1, (n, *shape)).astype(np.float32)


def loss(model, x, y) -> float:
    """The model's compiled loss on a batch (the total, for a model of several outputs)."""
    return float(model.test_on_batch(x, y, return_dict=True)["loss"])


def snapshot(*models):
    return [[w.numpy().copy() for w in m.weights] for m in models]


def moved(before, after):
    return [not all(np.array_equal(x, y) for x, y in zip(b, a)) for b, a in zip(before, after)]


# --- CycleGAN -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cycle():
    keras.utils.set_random_seed(0)
    return cyclegan.CycleGAN(*cyclegan.build_networks(filters=8, blocks=2))


def resnet_parameters(f, blocks, c=1):
    conv = lambda k, i, o: k * k * i * o + o  # noqa: E731
    return (conv(7, c, f) + conv(3, f, 2 * f) + conv(3, 2 * f, 4 * f) + blocks * 2 * conv(3, 4 * f, 4 * f)
            + conv(3, 4 * f, 2 * f) + conv(3, 2 * f, f) + conv(7, f, c))  # instance norm has no parameters


def test_cyclegan_parameter_counts():
    for f, blocks in ((8, 2), (32, 6), (64, 9)):
        assert cyclegan.resnet_generator(filters=f, blocks=blocks).count_params() == resnet_parameters(f, blocks)
    d = cyclegan.patch_discriminator(filters=16, layers_down=2)
    assert d.count_params() == (16 * 16 + 16) + (16 * 16 * 32 + 32) + (16 * 32 * 64 + 64) + (16 * 64 + 1)
    assert tuple(d.outputs[0].shape[1:]) == (7, 7, 1)
    assert tuple(cyclegan.patch_discriminator().outputs[0].shape[1:]) == (7, 7, 1)
    assert tuple(cyclegan.patch_discriminator(layers_down=1).outputs[0].shape[1:]) == (14, 14, 1)
    assert tuple(cyclegan.resnet_generator((32, 32, 3)).outputs[0].shape[1:]) == (32, 32, 3)
    with pytest.raises(ValueError, match="must divide by 4"):
        cyclegan.resnet_generator((30, 30, 1))


def test_cyclegan_losses_are_the_papers(cycle):
    """D: the mean squared error over [real, fake] with targets 1 and 0, i.e. half the sum of the
    two least-squares terms. Combined: LSGAN adversarial terms with weight 1, L1 cycle terms with
    lambda = 10 and L1 identity terms with 5, from the model's own outputs."""
    a, b = images(4), images(4)
    fake = np.asarray(cycle.g_ba(b))
    _, d_targets = cycle._patch_targets(4)
    scores = np.asarray(cycle.d_a(np.concatenate([a, fake])))
    expected = 0.5 * (np.mean((scores[:4] - 1) ** 2) + np.mean(scores[4:] ** 2))
    assert loss(cycle.d_a, np.concatenate([a, fake]), d_targets) == pytest.approx(expected, rel=1e-5)

    adv_b, adv_a, rec_a, rec_b, id_a, id_b = (np.asarray(o, np.float64) for o in cycle.combined([a, b]))
    l1 = lambda x, y: np.mean(np.abs(x - y))  # noqa: E731
    expected = (np.mean((adv_b - 1) ** 2) + np.mean((adv_a - 1) ** 2) + 10 * (l1(rec_a, a) + l1(rec_b, b))
                + 5 * (l1(id_a, a) + l1(id_b, b)))
    total = loss(cycle.combined, [a, b], cycle.targets(a, b))
    assert total == pytest.approx(expected, rel=1e-5)
    # the outputs are what they say: F(G(a)) is the cycle of a, G(b) the identity of b
    np.testing.assert_allclose(rec_a, np.asarray(cycle.g_ba(cycle.g_ab(a))), atol=1e-5)
    np.testing.assert_allclose(id_b, np.asarray(cycle.g_ab(b)), atol=1e-6)


def test_each_cyclegan_step_moves_only_its_own_networks(cycle):
    """The discriminators' step moves D_A and D_B and neither generator; the combined step moves
    both generators and neither discriminator, step after step."""
    nets = (cycle.g_ab, cycle.g_ba, cycle.d_a, cycle.d_b)
    for _ in range(2):
        a, b = images(4), images(4)
        before = snapshot(*nets)
        cycle.discriminator_step(a, b)
        middle = snapshot(*nets)
        cycle.generator_step(a, b)
        after = snapshot(*nets)
        assert moved(before, middle) == [False, False, True, True]
        assert moved(middle, after) == [True, True, False, False]


def test_the_image_pool_is_the_papers():
    pool = cyclegan.ImagePool(size=5, seed=1)
    first = images(5)
    np.testing.assert_array_equal(pool.query(first), first)  # not full yet: stored and returned
    stored = {x.tobytes() for x in first}
    new = images(400)
    out = pool.query(new)
    swapped = sum(not np.array_equal(x, y) for x, y in zip(out, new))
    assert len(pool.images) == 5
    assert all(x.tobytes() in stored | {y.tobytes() for y in new} for x in out)  # nothing made up
    assert 150 < swapped < 250  # each image is swapped for a stored one with probability 1/2
    # the state comes back exactly, and with it what the next queries return
    saved = pool.get_state("pool")
    again = cyclegan.ImagePool(size=5, seed=99)
    again.set_state(saved, "pool")
    probe = images(20)
    np.testing.assert_array_equal(pool.query(probe), again.query(probe))
    np.testing.assert_array_equal(cyclegan.ImagePool(size=0).query(probe), probe)


def test_the_learning_rate_holds_then_decays_linearly_to_zero():
    schedule = cyclegan.HoldThenDecay(2e-4, hold_steps=100, decay_steps=50)
    values = [float(schedule(s)) for s in (0, 99, 100, 125, 150, 400)]
    assert values == pytest.approx([2e-4, 2e-4, 2e-4, 1e-4, 0.0, 0.0])
    assert cyclegan.HoldThenDecay.from_config(schedule.get_config()).get_config() == schedule.get_config()


# --- SRGAN ----------------------------------------------------------------------------------------------

def test_pixel_shuffle_against_numpy():
    """output[r*h + i, r*w + j, c] = input[h, w, (r*i + j)*C + c], written out with loops."""
    r, c = 2, 3
    x = RNG.standard_normal((2, 3, 5, r * r * c)).astype(np.float32)
    expected = np.zeros((2, 3 * r, 5 * r, c), np.float32)
    for h in range(3):
        for w in range(5):
            for i in range(r):
                for j in range(r):
                    expected[:, r * h + i, r * w + j, :] = x[:, h, w, (r * i + j) * c:(r * i + j + 1) * c]
    inputs = keras.Input((3, 5, r * r * c))
    np.testing.assert_array_equal(np.asarray(keras.Model(inputs, srgan.pixel_shuffle(inputs, r))(x)), expected)


def srresnet_parameters(f, blocks, scale=4, c=1):
    conv = lambda k, i, o: k * k * i * o + o  # noqa: E731
    bn, prelu = 4 * f, f  # gamma, beta and the moving mean and variance; one slope per channel
    steps = int(np.log2(scale))
    return (conv(9, c, f) + prelu + blocks * (2 * conv(3, f, f) + 2 * bn + prelu) + conv(3, f, f) + bn
            + steps * (conv(3, f, 4 * f) + prelu) + conv(9, f, c))


def test_srgan_parameter_counts_and_shapes():
    g = srgan.srresnet_generator()
    assert g.count_params() == srresnet_parameters(64, 16) == 1_534_145
    assert srgan.srresnet_generator(filters=32, blocks=4).count_params() == srresnet_parameters(32, 4)
    assert tuple(g.outputs[0].shape[1:]) == (28, 28, 1)
    assert tuple(srgan.srresnet_generator((16, 16, 3), scale=2).outputs[0].shape[1:]) == (32, 32, 3)
    with pytest.raises(ValueError, match="power of 2"):
        srgan.srresnet_generator(scale=3)
    d = srgan.discriminator(filters=8, dense=16)
    convs = [(1, 8)] + [(8, 8), (8, 16), (16, 16), (16, 32), (32, 32), (32, 64), (64, 64)]
    expected = sum(9 * i * o + o for i, o in convs) + sum(4 * o for _, o in convs[1:])  # BatchNorm after all but the first
    expected += (2 * 2 * 64) * 16 + 16 + 16 + 1  # 28 -> 14 -> 7 -> 4 -> 2 after four stride-2 convolutions
    assert d.count_params() == expected


def test_downsampling_averages_blocks():
    hr = np.arange(2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8, 1)
    lr = transforms.downsample(hr, 4)
    assert lr.shape == (2, 2, 2, 1)
    assert lr[1, 1, 0, 0] == hr[1, 4:8, 0:4, 0].mean()
    with pytest.raises(ValueError, match="4x4 blocks"):
        transforms.downsample(np.zeros((1, 6, 6, 1)), 4)


@pytest.fixture(scope="module")
def sr():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    features = keras.Model(inputs, keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs), name="features")
    return srgan.SRGAN(srgan.srresnet_generator(filters=8, blocks=2), srgan.discriminator(filters=8, dense=16), features)


def test_srgan_losses_are_the_papers(sr):
    """D: cross-entropy of its logits, real 1 and fake 0. Combined: the features' mean squared error
    plus 1e-3 times -log sigmoid(D(G(lr))), from the model's own outputs."""
    hr = images(4)
    lr = transforms.downsample(hr)
    fake = np.asarray(sr.generator(lr))
    logits = np.asarray(sr.discriminator(np.concatenate([hr, fake])), np.float64)[:, 0]
    softplus = lambda x: np.logaddexp(0, x)  # noqa: E731
    expected = np.mean(np.r_[softplus(-logits[:4]), softplus(logits[4:])])
    targets = np.r_[np.ones((4, 1)), np.zeros((4, 1))].astype(np.float32)
    assert loss(sr.discriminator, np.concatenate([hr, fake]), targets) == pytest.approx(expected, rel=1e-5)
    feats, score = (np.asarray(o, np.float64) for o in sr.combined(lr))
    content = np.mean((feats - np.asarray(sr.features(hr))) ** 2)
    expected = content + 1e-3 * np.mean(softplus(-score))
    assert loss(sr.combined, lr, sr.targets(hr)) == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(feats, np.asarray(sr.features(fake)), atol=1e-6)


def test_each_srgan_step_moves_only_its_own_network(sr):
    """D's step moves D alone; the combined step moves G alone: neither D nor the feature network."""
    for _ in range(2):
        hr = images(4)
        lr = transforms.downsample(hr)
        before = snapshot(sr.generator, sr.discriminator, sr.features)
        sr.discriminator_step(lr, hr)
        middle = snapshot(sr.generator, sr.discriminator, sr.features)
        sr.generator_step(lr, hr)
        after = snapshot(sr.generator, sr.discriminator, sr.features)
        # BatchNorm's moving statistics are weights too: G's change only in G's step
        assert moved(before, middle) == [False, True, False]
        assert moved(middle, after) == [True, False, False]


def test_srresnet_trains_on_the_pixel_loss():
    keras.utils.set_random_seed(0)
    model = srgan.SRGAN(srgan.srresnet_generator(filters=8, blocks=1), adversarial=False)
    hr = images(8)
    lr = transforms.downsample(hr)
    out = np.asarray(model.generator(lr), np.float64)
    # the pixel-wise MSE (in inference mode here: BatchNorm's moving statistics)
    assert loss(model.generator, lr, hr) == pytest.approx(np.mean((out - hr) ** 2), rel=1e-5)
    losses = [model.train_step(lr, hr)["g_loss"] for _ in range(15)]
    assert losses[-1] < losses[0]
    with pytest.raises(ValueError, match="needs a discriminator and a feature network"):
        srgan.SRGAN(srgan.srresnet_generator(filters=8, blocks=1))
