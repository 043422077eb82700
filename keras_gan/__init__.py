"""keras_gan: the classic GAN family on Keras 3 / TensorFlow, measured and tested.

The Python API, for notebooks and scripts (the commands `python -m keras_gan.train`, `generate`,
`evaluate` and `experiment` are thin layers over the same calls):

    import keras_gan

    config = keras_gan.TrainConfig(model="dcgan", dataset="fashion_mnist", epochs=5, output_dir="runs/dcgan")
    history = keras_gan.fit(config)                       # or fit(config, resume=True), callbacks=[...]
    g = keras_gan.load_generator("runs/dcgan/generator.keras")   # with its run's noise and image shape
    images = g.sample(64, seed=0)                         # (64, 28, 28, 1) in [-1, 1]
    scores = keras_gan.score_generator("runs/dcgan/generator.keras", "fashion_mnist", num_samples=5000, seed=0)

Names are imported on first use, so that `import keras_gan` stays cheap until one is needed.
"""

import importlib

__version__ = "0.1.0"

_API = {
    "TrainConfig": ("keras_gan.runs.config", "TrainConfig"),
    "fit": ("keras_gan.training.loop", "fit"),
    "RunCallback": ("keras_gan.training.callbacks", "RunCallback"),
    "Callback": ("keras_gan.training.callbacks", "RunCallback"),  # its earlier name
    "load_generator": ("keras_gan.runs.generator", "load_generator"),
    "Generator": ("keras_gan.models.sampling", "Generator"),
    "score": ("keras_gan.evaluation.scoring", "score"),
    "score_generator": ("keras_gan.evaluation.saved", "score_generator"),
    "Preset": ("keras_gan.models.presets", "Preset"),
    "register_preset": ("keras_gan.models.presets", "register"),
    "Metric": ("keras_gan.metrics.registry", "Metric"),
    "register_metric": ("keras_gan.metrics.registry", "register"),
}
__all__ = list(_API)


def __getattr__(name):
    if name not in _API:
        raise AttributeError(f"module 'keras_gan' has no attribute {name!r}")
    module, attribute = _API[name]
    return getattr(importlib.import_module(module), attribute)
