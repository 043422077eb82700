"""A hyper-parameter that a loss or a penalty owns (the gradient penalty's lambda, the clip value).

A loss or penalty declares its settings next to its code; the training configuration
(keras_gan/config.py) takes every registered setting as a field of its own: a flag `--NAME` of the
train command, a key of config.json, a keyword of `TrainConfig(NAME=...)`, checked on creation.
"""

import dataclasses
from collections.abc import Callable


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


class Registry(dict):
    """Named components (the losses, the penalties): `add` registers one under its `name`, `named`
    looks one up or says which names there are."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def add(self, item):
        self[item.name] = item
        return item

    def named(self, name: str):
        if name not in self:
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self)}")
        return self[name]


def positive(name: str, default: float, help: str) -> Setting:
    return Setting(name, default, help, lambda v: v > 0, "positive")


def non_negative(name: str, default: float, help: str) -> Setting:
    return Setting(name, default, help, lambda v: v >= 0, ">= 0")
