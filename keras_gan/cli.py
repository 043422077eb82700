"""What the command-line tools share: absl flags in a FlagValues of their own, and clean errors."""

import os
import sys

from absl import flags

from keras_gan.errors import ConfigError, KerasGanError


def run_cli(argv, define, body) -> int:
    """Parses absl flags into their own FlagValues and maps user errors to one line and status 2."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    fv = define()
    if any(a in ("-h", "--help", "--helpshort", "--helpfull") for a in argv[1:]):
        module = sys.modules[define.__module__]
        name = module.__spec__.name if module.__spec__ else module.__name__
        print(f"usage: python -m {name} --flag=value ...\n")
        print((module.__doc__ or "").strip() + "\n\nflags:")
        print(fv.get_help(include_special_flags=False))
        return 0
    try:
        extra = fv(list(argv))[1:]
        if extra:
            raise ConfigError(f"unexpected arguments: {' '.join(extra)} (flags are written --name=value)")
        return body(fv) or 0
    except (flags.Error, KerasGanError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a full disk, a read-only folder: say which file, keep what was saved
        print(f"error: {e.strerror or e}: {e.filename or ''}", file=sys.stderr)
        return 2
