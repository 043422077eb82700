"""The one configuration object of a training run, saved beside its outputs as config.json."""

import dataclasses
import json
import os
import typing

from keras_gan.errors import ConfigError

NOISE_KINDS = ("uniform", "normal")
CGAN_LAYOUTS = ("concat", "paper")
# What a resumed run may change: how long it goes on, how often it draws and scores, and where its
# folder and its data lie now (the data itself is checked against the checkpoint's fingerprint).
RESUMABLE = frozenset({"epochs", "sample_every", "eval_every", "eval_samples", "output_dir", "data_dir"})
# Values for what a preset leaves unset.
FALLBACKS = dict(sample_every=5, sample_rows=4, sample_cols=6, weight_decay=0.0)


def _has_type(value, annotation) -> bool:
    kinds = typing.get_args(annotation) or (annotation,)
    if value is None or isinstance(value, bool):
        return type(value) in kinds
    if isinstance(value, int) and float in kinds:  # JSON writes 1.0 as 1
        return True
    return isinstance(value, tuple(k for k in kinds if k is not type(None)))


def _type_name(annotation) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    kinds = [names[k] for k in typing.get_args(annotation) or (annotation,) if k is not type(None)]
    return " or ".join(kinds)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Fields left at None take the value of the model's preset (keras_gan/presets.py); the
    default model, vanilla, is the slide deck (seeds/003): noise U(-1, 1) of dimension 10,
    Adam(2e-4, beta_1=0.5), batch 128, 50 epochs, one-sided label smoothing 0.9."""

    dataset: str = "mnist"
    data_dir: str | None = None
    model: str = "vanilla"
    epochs: int | None = None
    batch_size: int | None = None
    noise_dim: int | None = None
    noise: str | None = None
    learning_rate: float | None = None
    beta_1: float | None = None
    beta_2: float | None = None
    weight_decay: float | None = None
    label_smoothing: float | None = None
    n_critic: int | None = None
    clip_value: float = 0.01
    gp_weight: float = 10.0
    dcgan_filters: int = 128
    cgan_layout: str = "concat"
    seed: int = 0
    output_dir: str = ""
    steps_per_epoch: int | None = None
    sample_every: int | None = None
    sample_rows: int | None = None
    sample_cols: int | None = None
    eval_every: int = 0          # 0: no evaluation during training
    eval_samples: int = 2000

    def __post_init__(self):
        from keras_gan import presets
        from keras_gan.data import DATASETS

        preset = presets.get(self.model)
        smoothing_given = self.label_smoothing is not None
        defaults = {**FALLBACKS, **preset.defaults}
        for field in dataclasses.fields(self):
            if getattr(self, field.name) is None and field.name in defaults:
                object.__setattr__(self, field.name, defaults[field.name])

        def need(ok, msg):
            if not ok:
                raise ConfigError(msg)

        for field in dataclasses.fields(self):  # values from JSON (config.json, experiments) can be anything
            value = getattr(self, field.name)
            need(_has_type(value, field.type), f"--{field.name} must be {_type_name(field.type)}. "
                                               f"Received: {field.name}={value!r}")

        need(self.dataset in DATASETS,
             f"unknown dataset {self.dataset!r}; choose one of: {', '.join(DATASETS)}")
        for name in ("epochs", "batch_size", "noise_dim", "n_critic", "sample_every", "sample_rows",
                     "sample_cols", "dcgan_filters"):
            value = getattr(self, name)
            need(isinstance(value, int) and value > 0, f"--{name} must be a positive integer. Received: {name}={value}")
        need(isinstance(self.eval_every, int) and self.eval_every >= 0,
             f"--eval_every must be 0 (off) or a positive number of epochs. Received: eval_every={self.eval_every}")
        need(isinstance(self.eval_samples, int) and self.eval_samples >= 10,
             f"--eval_samples must be at least 10. Received: eval_samples={self.eval_samples}")
        need(self.steps_per_epoch is None or self.steps_per_epoch > 0,
             f"--steps_per_epoch must be a positive integer. Received: steps_per_epoch={self.steps_per_epoch}")
        need(self.noise in NOISE_KINDS, f"--noise must be one of {', '.join(NOISE_KINDS)}. Received: noise={self.noise!r}")
        need(self.learning_rate > 0, f"--learning_rate must be positive. Received: learning_rate={self.learning_rate}")
        need(0 <= self.beta_1 < 1, f"--beta_1 must be in [0, 1). Received: beta_1={self.beta_1}")
        need(0 <= self.beta_2 < 1, f"--beta_2 must be in [0, 1). Received: beta_2={self.beta_2}")
        need(self.weight_decay >= 0, f"--weight_decay must be >= 0. Received: weight_decay={self.weight_decay}")
        need(0 < self.label_smoothing <= 1,
             f"--label_smoothing (the target for real images) must be in (0, 1]. "
             f"Received: label_smoothing={self.label_smoothing}")
        need(not (smoothing_given and self.label_smoothing != 1 and not preset.uses_label_smoothing),
             f"--label_smoothing does not apply to --model={self.model}: its {preset.loss} loss has no "
             f"real-image label. Received: label_smoothing={self.label_smoothing}")
        need(self.clip_value > 0, f"--clip_value must be positive. Received: clip_value={self.clip_value}")
        need(self.gp_weight >= 0, f"--gp_weight must be >= 0. Received: gp_weight={self.gp_weight}")
        need(self.cgan_layout in CGAN_LAYOUTS,
             f"--cgan_layout must be one of {', '.join(CGAN_LAYOUTS)}. Received: cgan_layout={self.cgan_layout!r}")

    @property
    def run_dir(self) -> str:
        return self.output_dir or os.path.join("runs", f"{self.model}_{self.dataset}")

    def to_json(self, *, with_folder: bool = False) -> str:
        """The configuration as config.json holds it: every field but `output_dir`, the folder itself,
        so that a run folder names no location and can be moved or copied (`with_folder` adds it)."""
        values = dataclasses.asdict(self)
        if not with_folder:
            del values["output_dir"]
        return json.dumps(values, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, output_dir: str = "") -> "TrainConfig":
        """The configuration of config.json text, for the run folder `output_dir` (where it was read)."""
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ConfigError(f"expected a JSON object of settings, found {type(values).__name__}")
        values.pop("output_dir", None)  # earlier versions wrote it; the folder is where the file is
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown keys {unknown}; was it written by another version?")
        try:
            return cls(**values, output_dir=output_dir)
        except TypeError as e:  # a value of the wrong type, compared or counted in __post_init__
            raise ConfigError(f"a value has the wrong type ({e})") from None

    def changes_from(self, saved: "TrainConfig") -> dict:
        """{field: (saved value, this value)} for every field that a resumed run may not change."""
        return {f.name: (getattr(saved, f.name), getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.name not in RESUMABLE and getattr(saved, f.name) != getattr(self, f.name)}
