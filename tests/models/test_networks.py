"""The networks: the slide deck's, layer for layer, made of Keras's own layers."""

import keras
import numpy as np
import pytest

from keras_gan.models import networks, presets
from keras_gan.runs.config import TrainConfig


def test_generator_is_the_slide_decks():
    g = networks.build_generator(10, (28, 28, 1))
    assert g.count_params() == 1_463_312
    dense = [l for l in g.layers if isinstance(l, keras.layers.Dense)]
    assert [l.units for l in dense] == [256, 512, 1024, 784]
    assert [l.negative_slope for l in g.layers if isinstance(l, keras.layers.LeakyReLU)] == [0.2] * 3
    assert dense[-1].activation is keras.activations.tanh
    out = np.asarray(g(np.random.uniform(-1, 1, (64, 10)).astype("float32")))
    assert out.shape == (64, 784) and out.min() >= -1 and out.max() <= 1


def test_discriminator_is_the_slide_decks():
    d = networks.build_discriminator((28, 28, 1))
    assert d.count_params() == 1_460_225
    dense = [l for l in d.layers if isinstance(l, keras.layers.Dense)]
    assert [l.units for l in dense] == [1024, 512, 256, 1]
    assert [l.rate for l in d.layers if isinstance(l, keras.layers.Dropout)] == [0.3] * 3
    assert dense[-1].activation is keras.activations.linear  # logits; the loss takes them
    init = dense[0].kernel_initializer
    assert isinstance(init, keras.initializers.RandomNormal) and init.stddev == 0.02
    # 802,816 draws: the sample standard deviation is within 1% of 0.02.
    assert abs(float(np.std(dense[0].kernel)) - 0.02) < 2e-4
    # The exported copy is the deck's D: the same layers and weights, a sigmoid on the last one.
    deck = networks.with_output_activation(d, "sigmoid")
    assert deck.count_params() == 1_460_225 and deck.layers[-1].activation is keras.activations.sigmoid
    x = np.random.uniform(-1, 1, (32, 784)).astype("float32")
    p, logit = np.asarray(deck(x)), np.asarray(d(x), np.float64)
    assert p.shape == (32, 1) and np.all((p > 0) & (p < 1))
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-logit)), rtol=1e-6)
    assert [np.array_equal(a, b) for a, b in zip(deck.get_weights(), d.get_weights())] == [True] * 8


def test_cifar_shapes():
    assert networks.build_generator(10, (32, 32, 3)).output_shape == (None, 3072)
    assert networks.build_discriminator((32, 32, 3)).input_shape == (None, 3072)


def test_every_network_is_made_of_keras_own_layers():
    # A learner reading networks.py against the slides sees Keras's Dense and Dropout, and so does
    # every network the family trains: no layer class of this package.
    for name, preset in presets.PRESETS.items():
        if preset.task != "noise":
            continue
        config = TrainConfig(model=name, dcgan_filters=8, dataset="cifar10" if preset.architecture else "mnist")
        for model in preset.build_networks(noise_dim=config.noise_dim, image_shape=config.spec.image_shape,
                                           dcgan_filters=8):
            classes = {type(layer) for layer in model._flatten_layers(include_self=False)}
            assert all(c.__module__.startswith("keras.") for c in classes), (name, classes)
    d = networks.build_discriminator()
    assert {type(layer) for layer in d.layers} == {keras.layers.Dense, keras.layers.LeakyReLU, keras.layers.Dropout}
    assert {type(layer) for layer in networks.build_generator().layers} == {keras.layers.Dense, keras.layers.LeakyReLU}


def test_dcgan_paper_is_the_papers_network_at_any_power_of_two():
    g = networks.build_dcgan_paper_generator(100, (64, 64, 3), filters=128)
    d = networks.build_dcgan_paper_discriminator((64, 64, 3), filters=128)
    shapes = [tuple(layer.output.shape[1:]) for layer in g.layers if type(layer).__name__ in ("Reshape",
                                                                                                 "Conv2DTranspose")]
    assert shapes == [(4, 4, 1024), (8, 8, 512), (16, 16, 256), (32, 32, 128), (64, 64, 3)]
    # kernels 4x4, no biases before BatchNorm: 100*16*1024 + 4*4*(1024*512 + 512*256 + 256*128 + 128*3) + 3
    # weights, and BatchNorm's four vectors on 1024 + 512 + 256 + 128 channels
    assert g.count_params() == 100 * 16 * 1024 + 16 * (1024 * 512 + 512 * 256 + 256 * 128 + 128 * 3) + 3 \
        + 4 * (1024 + 512 + 256 + 128)
    convs = [tuple(layer.output.shape[1:]) for layer in d.layers if type(layer).__name__ == "Conv2D"]
    assert convs == [(32, 32, 128), (16, 16, 256), (8, 8, 512), (4, 4, 1024)]
    assert tuple(networks.build_dcgan_paper_generator(100, (32, 32, 1), filters=8).outputs[0].shape[1:]) == (32, 32, 1)
    with pytest.raises(ValueError, match="square ones of side 8, 16, 32, 64"):
        networks.paper_depth((48, 48, 3))


def test_dropout_layers_carry_the_seed_keras_would_draw_for_them():
    """networks.dropout_layer: the seed state an unseeded Dropout starts from, so the same masks on
    TensorFlow and JAX; on PyTorch, where an unseeded Dropout draws from torch's global generator, masks
    that follow from the layer's own seed state alone (which checkpoints hold)."""
    x = np.ones((4, 500), np.float32)

    def masks(layer):
        return keras.ops.convert_to_numpy(layer(x, training=True)) == 0

    keras.utils.set_random_seed(0)
    plain = keras.layers.Dropout(0.3)
    keras.utils.set_random_seed(0)
    seeded = networks.dropout_layer(0.3)
    keras.utils.set_random_seed(0)
    twin = networks.dropout_layer(0.3)
    state = keras.ops.convert_to_numpy
    np.testing.assert_array_equal(state(seeded.seed_generator.state), state(plain.seed_generator.state))
    first = masks(seeded)
    assert 0.2 < first.mean() < 0.4 and not np.array_equal(first, masks(seeded))  # a new mask on each call
    keras.utils.set_random_seed(1)  # the global generators move on; the twin's masks follow its own state
    np.testing.assert_array_equal(masks(twin), first)
    if keras.backend.backend() != "torch":
        np.testing.assert_array_equal(masks(plain), first)
