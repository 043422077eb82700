"""keras_gan: the classic GAN family on Keras 3 / TensorFlow, measured and tested."""

__version__ = "0.1.0"
