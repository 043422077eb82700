"""Generator and discriminator builders.

The vanilla pair is the Keras slide deck's (seeds/003) layer for layer: a Sequential
Dense/LeakyReLU(0.2) generator 256-512-1024 with a tanh output, and a Sequential discriminator
1024-512-256 with Dropout(0.3), RandomNormal(stddev=0.02) on its first kernel and a sigmoid output.
For 28x28x1 images and 10-dimensional noise they have 1,463,312 and 1,460,225 parameters.
Images travel flat (784 values for MNIST), as in the deck.
"""

import math

import keras
from keras import layers


def build_generator(noise_dim: int = 10, image_shape=(28, 28, 1), *, units=(256, 512, 1024),
                    alpha: float = 0.2, name: str = "generator") -> keras.Sequential:
    """Noise (noise_dim,) to a flat image in [-1, 1] of prod(image_shape) values."""
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(noise_dim,), name="noise"))
    for n in units:
        model.add(layers.Dense(n))
        model.add(layers.LeakyReLU(negative_slope=alpha))
    model.add(layers.Dense(math.prod(image_shape), activation="tanh"))
    return model


def build_discriminator(image_shape=(28, 28, 1), *, units=(1024, 512, 256), alpha: float = 0.2,
                        dropout: float = 0.3, name: str = "discriminator") -> keras.Sequential:
    """A flat image to the probability that it is real."""
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(math.prod(image_shape),), name="image"))
    for i, n in enumerate(units):
        init = keras.initializers.RandomNormal(stddev=0.02) if i == 0 else "glorot_uniform"
        model.add(layers.Dense(n, kernel_initializer=init))
        model.add(layers.LeakyReLU(negative_slope=alpha))
        model.add(layers.Dropout(dropout))
    model.add(layers.Dense(1, activation="sigmoid"))
    return model
