"""What the command-line tools share: absl flags in a FlagValues of their own, quiet start-up,
clean errors, and Ctrl-C or SIGTERM turned into a clean stop."""

import os
import signal
import sys
import tempfile
import threading

from absl import flags

from keras_gan.errors import ConfigError, KerasGanError


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: raised where the program is, so that it stops as after Ctrl-C."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.exit_status = 128 + signum


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow with its C++ start-up lines (oneDNN, CUDA drivers, CPU instructions) kept off
    the terminal. Those lines are written before TensorFlow reads TF_CPP_MIN_LOG_LEVEL, so the
    import runs with the process's stderr pointed at a temporary file; if it fails, that file is
    shown. A user who sets TF_CPP_MIN_LOG_LEVEL themselves gets TensorFlow's own behaviour."""
    if "tensorflow" in sys.modules or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def run_cli(argv, define, body) -> int:
    """Parses absl flags into their own FlagValues and maps user errors to one line and their status
    (2 for bad input), Ctrl-C and SIGTERM to 130 and 143."""
    fv = define()
    if any(a in ("-h", "--help", "--helpshort", "--helpfull") for a in argv[1:]):
        module = sys.modules[define.__module__]
        name = module.__spec__.name if module.__spec__ else module.__name__
        print(f"usage: python -m {name} --flag=value ...\n")
        print((module.__doc__ or "").strip() + "\n\nflags:")
        print(fv.get_help(include_special_flags=False))
        return 0
    main_thread = threading.current_thread() is threading.main_thread()  # signals go to the main thread only
    previous = signal.signal(signal.SIGTERM, _raise_interrupted) if main_thread else None
    try:
        extra = fv(list(argv))[1:]
        if extra:
            raise ConfigError(f"unexpected arguments: {' '.join(extra)} (flags are written --name=value)")
        import_tensorflow_quietly()
        return body(fv) or 0
    except (flags.Error, KerasGanError) as e:
        print(f"error: {e}", file=sys.stderr)
        return getattr(e, "exit_status", 2)
    except OSError as e:  # a full disk, a read-only folder: say which file, keep what was saved
        print(f"error: {e.strerror or e}: {e.filename or ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:  # commands with work to keep catch it first and say how to go on
        print("\ninterrupted", file=sys.stderr)
        return getattr(e, "exit_status", 130)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
