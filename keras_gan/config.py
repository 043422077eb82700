"""The one configuration object of a training run, saved beside its outputs as config.json."""

import dataclasses
import json
import os

from keras_gan.errors import ConfigError

NOISE_KINDS = ("uniform", "normal")
MODELS = ("vanilla",)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Defaults are the slide deck's (seeds/003): MNIST, noise U(-1, 1) of dimension 10,
    Adam(2e-4, beta_1=0.5), batch 128, 50 epochs, one-sided label smoothing 0.9."""

    dataset: str = "mnist"
    data_dir: str | None = None
    model: str = "vanilla"
    epochs: int = 50
    batch_size: int = 128
    noise_dim: int = 10
    noise: str = "uniform"
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    label_smoothing: float = 0.9
    seed: int = 0
    output_dir: str = ""
    steps_per_epoch: int | None = None
    sample_every: int = 5
    sample_rows: int = 4
    sample_cols: int = 6

    def __post_init__(self):
        from keras_gan.data import DATASETS

        def need(ok, msg):
            if not ok:
                raise ConfigError(msg)

        need(self.dataset in DATASETS,
             f"unknown dataset {self.dataset!r}; choose one of: {', '.join(DATASETS)}")
        need(self.model in MODELS, f"unknown model {self.model!r}; choose one of: {', '.join(MODELS)}")
        for name in ("epochs", "batch_size", "noise_dim", "sample_every", "sample_rows", "sample_cols"):
            value = getattr(self, name)
            need(isinstance(value, int) and value > 0, f"--{name} must be a positive integer. Received: {name}={value}")
        need(self.steps_per_epoch is None or self.steps_per_epoch > 0,
             f"--steps_per_epoch must be a positive integer. Received: steps_per_epoch={self.steps_per_epoch}")
        need(self.noise in NOISE_KINDS, f"--noise must be one of {', '.join(NOISE_KINDS)}. Received: noise={self.noise!r}")
        need(self.learning_rate > 0, f"--learning_rate must be positive. Received: learning_rate={self.learning_rate}")
        need(0 <= self.beta_1 < 1, f"--beta_1 must be in [0, 1). Received: beta_1={self.beta_1}")
        need(0 < self.label_smoothing <= 1,
             f"--label_smoothing (the target for real images) must be in (0, 1]. "
             f"Received: label_smoothing={self.label_smoothing}")

    @property
    def run_dir(self) -> str:
        return self.output_dir or os.path.join("runs", f"{self.model}_{self.dataset}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        values = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"config.json has unknown keys {unknown}; was it written by another version?")
        return cls(**values)
