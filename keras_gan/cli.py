"""What the command-line tools share: absl flags in a FlagValues of their own, quiet start-up,
clean errors, and Ctrl-C or SIGTERM turned into a clean stop; and the flags of the two image
commands, translate and upscale."""

import os
import signal
import sys
import threading

from absl import flags

from keras_gan import backend, interrupts
from keras_gan.errors import ConfigError, KerasGanError


Interrupted = interrupts.Interrupted  # Ctrl-C or SIGTERM (keras_gan/interrupts.py)


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow, its C++ start-up lines kept off the terminal (keras_gan/backend.py), where Keras
    will run on it: the commands call this before anything imports Keras. On JAX and PyTorch, TensorFlow
    is imported only where a run uses it."""
    if backend.configured() == "tensorflow":
        backend.import_tensorflow_quietly()


def execute(argv, define, body) -> int:
    """Parses absl flags into their own FlagValues and maps user errors to one line and their status
    (2 for bad input), Ctrl-C and SIGTERM to 130 and 143, and output into a closed pipe
    (`... --help | head`) to a quiet stop."""
    try:
        return _execute(argv, define, body)
    except BrokenPipeError:  # the reader went away: stop writing, and say nothing more to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def _execute(argv, define, body) -> int:
    fv = define()
    if any(a in ("-h", "--help", "--helpshort", "--helpfull") for a in argv[1:]):
        module = sys.modules[define.__module__]
        name = module.__spec__.name if module.__spec__ else module.__name__
        print(f"usage: python -m {name} --flag=value ...\n")
        print((module.__doc__ or "").strip() + "\n\nflags:")
        print(fv.get_help(include_special_flags=False), flush=True)
        return 0
    main_thread = threading.current_thread() is threading.main_thread()  # signals go to the main thread only
    previous = {s: signal.signal(s, interrupts.raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)} \
        if main_thread else {}
    try:
        extra = fv(list(argv))[1:]
        if extra:
            raise ConfigError(f"unexpected arguments: {' '.join(extra)} (flags are written --name=value)")
        import_tensorflow_quietly()
        return body(fv) or 0
    except (flags.Error, KerasGanError) as e:
        print(f"error: {e}", file=sys.stderr)
        return getattr(e, "exit_status", 2)
    except BrokenPipeError:
        raise
    except OSError as e:  # a full disk, a read-only folder: say which file, keep what was saved
        print(f"error: {e.strerror or e}: {e.filename or ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:  # commands with work to keep catch it first and say how to go on
        print("\ninterrupted", file=sys.stderr)
        return getattr(e, "exit_status", 130)
    finally:
        interrupts.clear()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# What differs between translate's and upscale's flags: the generator, the grid, the --prepare flag.
IMAGE_COMMANDS = {
    "translate": ("A CycleGAN generator: RUN/generator_a2b.keras or generator_b2a.keras.", "translated.png",
                  "edges", "The images are real ones: translate their edge maps, and show them as the truth."),
    "upscale": ("An SRGAN or SRResNet generator: RUN/generator.keras.", "upscaled.png",
                "downsample", "The images are full-size: downsample them first, and show them as the truth."),
}


def define_image_flags(command: str) -> flags.FlagValues:
    """The flags of `python -m keras_gan.COMMAND` (translate or upscale)."""
    generator, out, prepare, prepare_help = IMAGE_COMMANDS[command]
    fv = flags.FlagValues()
    flags.DEFINE_string("generator", None, generator, flag_values=fv)
    flags.DEFINE_string("images", None, "An .npy of images: uint8 0..255 or floats in [-1, 1], (N, H, W[, C]).",
                        flag_values=fv)
    flags.DEFINE_string("out", out, "Grid of inputs beside outputs to write ('' for none).", flag_values=fv)
    flags.DEFINE_string("npy", "", "Also write the outputs as an .npy array in [-1, 1], (N, H, W, C).", flag_values=fv)
    flags.DEFINE_boolean(prepare, False, prepare_help, flag_values=fv)
    flags.DEFINE_integer("num", 16, "Rows of the grid at most.", flag_values=fv)
    return fv


def image_request(fv: flags.FlagValues, command: str) -> dict:
    """The keywords of keras_gan.inference.images.ImageRequest that `command`'s parsed flags give."""
    return dict(generator=fv.generator, images=fv.images, out=fv.out, npy=fv.npy,
                prepare=fv[IMAGE_COMMANDS[command][2]].value, num=fv.num)
