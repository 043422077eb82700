"""Errors a user can act on.

Each carries a message that says what was wrong and what to do; the command-line tools print it on
one line (or one block, for data sources) and exit with the error's status instead of showing a
traceback: 2 for bad input (a flag, a file, a folder), 3 for a training run that diverged, 4 for a
multi-worker run that lost a worker.
"""


class KerasGanError(Exception):
    """Base class of the errors the command-line tools report without a traceback."""

    exit_status = 2


class ConfigError(KerasGanError, ValueError):
    """A flag or configuration value is out of range or inconsistent."""


class DataError(KerasGanError):
    """A dataset is missing, corrupt, or not the shape the dataset should have."""


class ModelFileError(KerasGanError):
    """A saved model file is missing or is not what the command expects."""


class RunFileError(KerasGanError):
    """A file of a run folder (its checkpoint, config.json, a CSV) is damaged or does not match."""


class RunInUseError(KerasGanError):
    """Another process is writing the run folder."""


class MetricInputError(KerasGanError, ValueError):
    """Images or features given to a metric are unusable (NaN or infinite values)."""


class FrozenModelError(KerasGanError, RuntimeError):
    """A model was trained with every weight frozen: the Keras 2 order of the classic recipe."""


class DivergenceError(KerasGanError):
    """A loss or a weight became NaN or infinite; the last good state was kept."""

    exit_status = 3


class WorkerLostError(KerasGanError):
    """Another worker of a multi-worker run stopped; the chief's last checkpoint was kept."""

    exit_status = 4


def reason(e: BaseException) -> str:
    """What went wrong, for a one-line message: the first line of `e`'s message (its type if it has
    none). NumPy reports any file that is neither .npy nor .npz as "pickled data"; that is said plainly."""
    text = str(e).splitlines()[0][:200] if str(e).strip() else type(e).__name__
    if "pickled" in text and "allow_pickle" in text:
        return "not a NumPy .npy or .npz file"
    return text
