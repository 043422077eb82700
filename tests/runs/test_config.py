"""TrainConfig: what it resolves once and carries, and the flags table of keras_gan/training/README.md."""

import dataclasses
import pathlib

import pytest

from keras_gan.data import datasets
from keras_gan.errors import ConfigError
from keras_gan.models import presets
from keras_gan.runs import config as run_config
from keras_gan.runs.config import TrainConfig

README = pathlib.Path(__file__).resolve().parents[2] / "keras_gan" / "training" / "README.md"


def test_the_readme_flags_table_is_the_one_made_from_the_declarations():
    text = README.read_text()
    begin, end = "<!-- flags table: begin -->\n", "\n<!-- flags table: end -->"
    shown = text[text.index(begin) + len(begin):text.index(end)]
    assert shown == run_config.flags_table(), (
        "keras_gan/training/README.md's flags table is out of date; put in the output of\n"
        "  python -c 'from keras_gan.runs.config import flags_table; print(flags_table())'")
    for name, *_ in run_config.flag_specs():  # every flag, and every registered setting, is a row
        assert f"| `--{name}` |" in shown


def test_the_preset_and_the_dataset_spec_are_resolved_once_and_carried(monkeypatch):
    config = TrainConfig(model="dcgan", dataset="cifar10")
    assert config.preset is presets.get("dcgan") and config.spec is datasets.get_spec("cifar10")
    # nothing downstream looks them up again: a configuration keeps what it resolved
    monkeypatch.setattr(presets, "get", lambda name: pytest.fail(f"looked up {name} again"))
    monkeypatch.setattr(datasets.DATASETS, "named", lambda name: pytest.fail(f"looked up {name} again"))
    assert config.preset.convolutional and config.spec.image_shape == (32, 32, 3)


def test_a_derived_configuration_resolves_its_own():
    config = TrainConfig(model="vanilla", dataset="mnist")
    other = dataclasses.replace(config, model="dcgan", dataset="cifar10")
    assert other.preset.convolutional and other.spec.image_shape == (32, 32, 3)
    assert other.noise_dim == config.noise_dim == 10  # given values are kept; dcgan's own default is 100
    assert TrainConfig(model="dcgan").noise_dim == 100


def test_unknown_names_say_which_there_are():
    with pytest.raises(ConfigError, match="unknown model 'nope'; choose one of: vanilla, "):
        TrainConfig(model="nope")
    with pytest.raises(ConfigError, match="unknown dataset 'nope'; choose one of: mnist, fashion_mnist"):
        TrainConfig(dataset="nope")
