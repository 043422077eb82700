"""Ctrl-C and SIGTERM as a clean stop, however busy the process is when they come.

The commands (keras_gan/cli.py) turn both signals into `Interrupted`, raised where the program is.
Python swallows an exception raised inside a weakref callback or a `__del__` (it prints "Exception
ignored in ..." with a traceback, and goes on), and TensorFlow and JAX run such callbacks all the
time: a signal raised there would be lost, and a run asked to stop would train on. So each signal is
noted, and one that lands in such a place is not raised there: the training loop calls `check` after
every step, which raises a signal noted and not yet acted on.
"""

import signal

_pending: list[int] = []


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: raised where the program is, so that it stops as after Ctrl-C."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.exit_status = 128 + signum


def _swallowed_in(frame) -> bool:
    """Whether an exception raised in `frame` would be swallowed: it runs inside a `__del__` or one of
    the weakref module's callbacks."""
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__del__" or code.co_filename.endswith(("weakref.py", "_weakrefset.py")):
            return True
        frame = frame.f_back
    return False


def raise_interrupted(signum, frame):
    """The signal handler of the commands: notes the signal, then raises it as `Interrupted`, unless
    it landed where Python would swallow it (then `check` raises it after the step)."""
    _pending.append(signum)
    if not _swallowed_in(frame):
        raise Interrupted(signum)


def check() -> None:
    """Raises `Interrupted` for a signal noted since the last `clear` (one that was lost where it landed)."""
    if _pending:
        signum = _pending[0]
        _pending.clear()
        raise Interrupted(signum)


def clear() -> None:
    """Forgets the signals noted: the command that received them has stopped."""
    _pending.clear()
