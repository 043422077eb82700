"""Named components, and the hyper-parameters they own: the one registry style of the package.

Presets (keras_gan/models/presets.py), losses (losses.py), penalties (penalties.py) and metrics
(keras_gan/metrics/registry.py) are each a `Registry`: `register(item)` adds one under its `name`,
`get(name)` looks one up or says which names there are. A user's new member of the family, loss,
penalty or metric is one `register` call, in any module imported before it is used.

A loss or a penalty declares the `Setting`s it owns next to its code (the gradient penalty's
lambda, the clip value); the training configuration (keras_gan/runs/config.py) takes every
registered setting as a field of its own: a flag `--NAME` of the train command, a key of
config.json, a keyword of `TrainConfig(NAME=...)`, checked on creation.
"""

import dataclasses
from collections.abc import Callable

from keras_gan.errors import ConfigError


class Registry(dict):
    """Named components of one kind: `add` registers one under its `name` (after `check`, if given,
    accepts it), `named` looks one up."""

    def __init__(self, kind: str, check: Callable | None = None):
        super().__init__()
        self.kind, self.check = kind, check

    def add(self, item):
        if self.check is not None:
            self.check(item)
        self[item.name] = item
        return item

    def named(self, name: str):
        """The component called `name`, or a ConfigError (a ValueError) that lists the names there are."""
        if name not in self:
            raise ConfigError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self)}")
        return self[name]


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    default: float
    help: str
    valid: Callable[[float], bool] = lambda value: True
    rule: str = ""  # what `valid` requires, for the error message: "positive", ">= 0"

    def check(self, value) -> str | None:
        """None if `value` is a valid value of this setting, else the reason it is not."""
        kind = type(self.default)
        if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else kind):
            return f"--{self.name} must be a {'number' if kind is float else kind.__name__}. Received: {self.name}={value!r}"
        if not self.valid(value):
            return f"--{self.name} must be {self.rule}. Received: {self.name}={value}"
        return None


def positive(name: str, default: float, help: str) -> Setting:
    return Setting(name, default, help, lambda v: v > 0, "positive")


def non_negative(name: str, default: float, help: str) -> Setting:
    return Setting(name, default, help, lambda v: v >= 0, ">= 0")
