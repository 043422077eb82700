"""keras_gan: the classic GAN family on Keras 3 / TensorFlow, measured and tested.

The Python API, for notebooks and scripts (the commands `python -m keras_gan.train`, `generate`,
`evaluate` and `experiment` are thin layers over the same calls):

    import keras_gan

    config = keras_gan.TrainConfig(model="dcgan", dataset="fashion_mnist", epochs=5, output_dir="runs/dcgan")
    history = keras_gan.fit(config)                       # or fit(config, resume=True), callbacks=[...]
    g = keras_gan.load_generator("runs/dcgan/generator.keras")   # with its run's noise distribution
    images = g.sample(64, seed=0)                         # (64, 28, 28, 1) in [-1, 1]
    scores = keras_gan.score_generator("runs/dcgan/generator.keras", "fashion_mnist", num_samples=5000, seed=0)

Names are imported on first use, so that `import keras_gan` stays cheap until one is needed.
"""

import importlib

__version__ = "0.1.0"

_API = {
    "TrainConfig": ("keras_gan.config", "TrainConfig"),
    "fit": ("keras_gan.loop", "fit"),
    "Callback": ("keras_gan.callbacks", "Callback"),
    "Generator": ("keras_gan.sampling", "Generator"),
    "score": ("keras_gan.scoring", "score"),
    "score_generator": ("keras_gan.scoring", "score_generator"),
    "Preset": ("keras_gan.presets", "Preset"),
    "register_preset": ("keras_gan.presets", "register"),
    "Metric": ("keras_gan.metrics.registry", "Metric"),
    "register_metric": ("keras_gan.metrics.registry", "register"),
}
__all__ = ["load_generator", *_API]


def load_generator(path: str, *, noise: str = "", image_shape: str = ""):
    """The generator of a `.keras` file, with the noise distribution and image shape of the run that
    trained it (keras_gan.sampling.Generator: `.sample(n, seed)`, `.decode(noise, labels)`, `.model`)."""
    from keras_gan.sampling import Generator

    return Generator.load(path, noise=noise, image_shape=image_shape)


def __getattr__(name):
    if name not in _API:
        raise AttributeError(f"module 'keras_gan' has no attribute {name!r}")
    module, attribute = _API[name]
    return getattr(importlib.import_module(module), attribute)
