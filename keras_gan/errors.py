"""Errors a user can act on.

Each carries a message that says what was wrong and what to do; the command-line tools print it on
one line (or one block, for data sources) and exit with status 2 instead of showing a traceback.
"""


class KerasGanError(Exception):
    """Base class of the errors the command-line tools report without a traceback."""


class ConfigError(KerasGanError, ValueError):
    """A flag or configuration value is out of range or inconsistent."""


class DataError(KerasGanError):
    """A dataset is missing, corrupt, or not the shape the dataset should have."""


class ModelFileError(KerasGanError):
    """A saved model file is missing or is not what the command expects."""
