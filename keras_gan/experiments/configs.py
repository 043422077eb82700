"""The named experiments of `make experiment`: one JSON file each in experiments/configs/.

Each names a model, a dataset, epochs and seeds for the reduced budget (`epochs`, `seeds`) and for
`--full` (`full_epochs`, `full_seeds`), extra training flags (`args`, `full_args`), which extra
figures to draw (`figures`), how many samples score it (`num_samples`), and for SRGAN the earlier
experiment whose generator it starts from (`init_from`). A configuration of a folder dataset made
from what a package installs names its maker (`folder`: "emoji", keras_gan/data/emoji.py), which
writes the folder into the cache folder the first time it is needed. Every (experiment, seed)
trains into RESULTS/NAME/seed_S/ (`seed_folder`).
"""

import dataclasses
import glob
import json
import os
import re

from keras_gan.data import emoji
from keras_gan.errors import ConfigError, reason
from keras_gan.evaluation.features import cache_dir
from keras_gan.runs.config import TrainConfig

FIGURES = ("interpolation",)


def emoji_folder() -> str:
    """The emoji folder in the cache folder, written from the installed font if it is not there yet."""
    path = os.path.join(cache_dir(), "emoji")
    emoji.build(path)
    return path


FOLDERS = {"emoji": emoji_folder}  # folder datasets made from what a package installs


@dataclasses.dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    model: str
    dataset: str
    epochs: int
    seeds: tuple[int, ...]
    args: dict
    figures: tuple[str, ...] = ()
    num_samples: int = 5000
    source: str = ""  # the configuration file
    init_from: str = ""  # an earlier experiment whose run of the same seed gives G's first weights (srgan)
    folder: str = ""     # the maker of a folder dataset (FOLDERS), for dataset "folder"

    @classmethod
    def from_file(cls, path: str, full: bool = False) -> "Experiment":
        name = os.path.splitext(os.path.basename(path))[0]

        def bad(problem):
            return ConfigError(f"experiment {path}: {problem}")

        try:
            with open(path, encoding="utf-8") as f:
                spec = json.load(f)
        except (OSError, ValueError) as e:
            raise bad(f"cannot read it as JSON ({reason(e)}); fix the file") from None
        if not isinstance(spec, dict):
            raise bad("expected a JSON object of settings")
        known = {"description", "model", "dataset", "epochs", "full_epochs", "seeds", "full_seeds", "args",
                 "full_args", "figures", "num_samples", "full_num_samples", "init_from", "folder"}
        unknown = sorted(set(spec) - known)
        missing = sorted({"model", "dataset", "epochs"} - set(spec))
        if unknown or missing:
            raise bad("; ".join(([f"unknown keys {unknown}"] if unknown else [])
                                + ([f"missing keys {missing}"] if missing else [])))
        pick = (lambda key, default: spec.get("full_" + key, spec.get(key, default))) if full else \
            (lambda key, default: spec.get(key, default))

        def count(key, default):
            value = pick(key, default)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise bad(f"{key} must be a positive integer. Received: {value!r}")
            return value

        seeds, figures = pick("seeds", [0]), spec.get("figures", [])
        args, full_args = spec.get("args", {}), spec.get("full_args", {})
        if not isinstance(seeds, list) or not seeds or not all(isinstance(x, int) and x >= 0 for x in seeds):
            raise bad(f"seeds must be a list of non-negative integers. Received: {seeds!r}")
        if not isinstance(args, dict) or not isinstance(full_args, dict):
            raise bad("args and full_args must be JSON objects of training flags")
        if not isinstance(figures, list) or any(f not in FIGURES for f in figures):
            raise bad(f"unknown figures {figures!r}; choose from {list(FIGURES)}")
        if not all(isinstance(spec.get(k, ""), str) for k in ("model", "dataset", "description", "init_from", "folder")):
            raise bad("model, dataset, description, init_from and folder must be strings")
        if spec.get("folder", "") not in ("", *FOLDERS) or bool(spec.get("folder")) != (spec["dataset"] == "folder"):
            raise bad(f"a folder dataset (dataset \"folder\") names its maker, one of {', '.join(FOLDERS)}, as "
                      f"\"folder\", and only it. Received: dataset={spec['dataset']!r}, folder={spec.get('folder')!r}")
        return cls(name=name, description=spec.get("description", ""), model=spec["model"],
                   dataset=spec["dataset"], epochs=count("epochs", 1), seeds=tuple(seeds),
                   args={**args, **(full_args if full else {})},
                   figures=tuple(figures), num_samples=count("num_samples", 5000), source=path,
                   init_from=spec.get("init_from", ""), folder=spec.get("folder", ""))

    def init_generator(self, seed: int, results: str) -> str:
        return os.path.join(seed_folder(results, self.init_from, seed), "generator.keras") if self.init_from else ""

    def command(self) -> str:
        """The train command of the configuration's runs, for seed S of results folder RESULTS."""
        args = " ".join(f"--{k}={v}" for k, v in sorted(self.args.items()))
        start = f" --init_generator={self.init_generator('S', 'RESULTS')}" if self.init_from else ""
        dataset = f"folder:{FOLDERS[self.folder]()}" if self.folder else self.dataset
        return (f"python -m keras_gan.train --model={self.model} --dataset={dataset} --epochs={self.epochs} "
                f"--seed=S {args}".rstrip() + start)

    def train_config(self, seed: int, results: str):
        try:
            start = {"init_generator": self.init_generator(seed, results)} if self.init_from else {}
            dataset = f"folder:{FOLDERS[self.folder]()}" if self.folder else self.dataset
            return TrainConfig(model=self.model, dataset=dataset, epochs=self.epochs, seed=seed,
                               output_dir=seed_folder(results, self.name, seed), **start, **self.args)
        except TypeError as e:  # an unknown flag, or a value of the wrong type
            raise ConfigError(f"experiment {self.source or self.name}: bad args ({e})") from None
        except ConfigError as e:
            raise ConfigError(f"experiment {self.source or self.name}: {e}") from None


def seed_folder(results: str, name: str, seed: int) -> str:
    """RESULTS/NAME/seed_S: the run folder of one seed of an experiment."""
    return os.path.join(results, name, f"seed_{seed}")


def parse_seeds(text: str) -> tuple[int, ...]:
    """--seeds: "0,1,2" -> (0, 1, 2)."""
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        seeds = ()
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ConfigError(f"--seeds={text}: expected distinct non-negative integers separated by commas, e.g. 0,1,2")
    return seeds


def _numbers_first(path: str) -> list:
    """Sorts 2_x before 10_x: the numbers in a name compare as numbers."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", os.path.basename(path))]


def load_experiments(folder: str, only: str = "", full: bool = False, seeds: str = "") -> list[Experiment]:
    """The configurations in `folder` (those named in `only`, if given), each with its own seeds or `seeds`."""
    paths = sorted(glob.glob(os.path.join(folder, "*.json")), key=_numbers_first)
    if not paths:
        raise ConfigError(f"no experiment configurations (*.json) in {folder}")
    experiments = [Experiment.from_file(p, full) for p in paths]
    for i, e in enumerate(experiments):
        if e.init_from and e.init_from not in [d.name for d in experiments[:i]]:
            raise ConfigError(f"experiment {e.source}: init_from names {e.init_from!r}, which is not a configuration "
                              f"that comes before it in {folder}; name an earlier one (they run in number order).")
    if only:
        names = [n.strip() for n in only.split(",")]
        unknown = [n for n in names if n not in {e.name for e in experiments}]
        if unknown:
            raise ConfigError(f"--only: no experiment named {unknown}; there are: "
                              f"{', '.join(e.name for e in experiments)}")
        experiments = [e for e in experiments if e.name in names]
    if seeds:
        experiments = [dataclasses.replace(e, seeds=parse_seeds(seeds)) for e in experiments]
    for e in experiments:  # fail on a bad configuration before hours of training, not after
        for seed in e.seeds:
            e.train_config(seed, "results")
    return experiments
