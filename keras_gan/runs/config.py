"""The one configuration object of a training run, saved beside its outputs as config.json.

Every setting is declared once, here: its type, its default, its help text and whether a resumed
run may change it. The train command's flags are made from these declarations (`flag_specs`), and
so are the settings that losses and penalties own (keras_gan/registry.py): each registered
setting is a keyword of `TrainConfig`, an attribute of it, a flag and a key of config.json, like
any field. A configuration resolves its model's preset and its dataset's spec once, when it is
made, and carries them (`config.preset`, `config.spec`).
"""

import dataclasses
import json
import os
import typing

from keras_gan.data.datasets import FOLDER, Arrays, DatasetSpec, load_arrays, spec_of, split_name
from keras_gan.errors import ConfigError, RunFileError
from keras_gan.metrics import registry as metrics
from keras_gan.models import losses, networks, penalties, presets
from keras_gan.models.sampling import NOISE_KINDS
from keras_gan.runs.folder import CONFIG

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = ("default", "mirrored", "multi_worker")
CGAN_LAYOUTS = ("concat", "paper")
PRESET = " (default: the model's preset)"
# Values for what a preset leaves unset.
FALLBACKS = dict(sample_every=5, sample_rows=4, sample_cols=6, weight_decay=0.0)


def _field(default, help: str, *, resumable: bool = False):
    """A field with its help text; `resumable` if a resumed run may change it (how long it goes on,
    how often it draws and scores, and where its folder and its data lie now: the data itself is
    checked against the checkpoint's fingerprint)."""
    return dataclasses.field(default=default, metadata={"help": help, "resumable": resumable})


def registered_settings() -> dict:
    """{name: Setting} of every registered loss and penalty."""
    found = {}
    for component in (*losses.LOSSES.values(), *penalties.PENALTIES.values()):
        for setting in component.settings:
            found.setdefault(setting.name, setting)
    return found


@dataclasses.dataclass(frozen=True, init=False)
class TrainConfig:
    """Fields left at None take the value of the model's preset (keras_gan/models/presets.py); the
    default model, vanilla, is the slide deck (seeds/003): noise U(-1, 1) of dimension 10,
    Adam(2e-4, beta_1=0.5), batch 128, 50 epochs, one-sided label smoothing 0.9. The settings of
    losses and penalties (`gp_weight`, `clip_value`, ...) are keywords too, kept in `settings`."""

    dataset: str = _field("mnist", "mnist, fashion_mnist, cifar10, photos (patches of scikit-image's photographs), "
                          "or folder:PATH, a folder of PNG, JPEG, BMP or GIF images (class subfolders are labels).")
    data_dir: str | None = _field(None, "Folder with IDX files or an .npz (tried first); for --dataset=folder, the "
                                  "folder of images.", resumable=True)
    image_size: int = _field(0, "folder datasets: the side of the square training images, centre-cropped and "
                             "resized (default 64).")
    channels: int = _field(0, "folder datasets: 3 (RGB, the default) or 1 (greyscale).")
    data_memory_mb: int = _field(2048, "folder datasets: decoded training images up to this size are kept in "
                                 "memory; a larger folder streams from disk.", resumable=True)
    data_cache: str = _field("", "folder datasets that stream: a file to keep the decoded images in (written once, "
                             "reused while the folder and the image size match); default: decode every epoch.",
                             resumable=True)
    model: str = _field("vanilla", "Which GAN, a preset of keras_gan/models/presets.py: {presets}.")
    epochs: int | None = _field(None, "Epochs to train (in all, counting resumed ones)", resumable=True)
    batch_size: int | None = _field(None, "Real images per D update")
    noise_dim: int | None = _field(None, "Dimension of the generator's noise input")
    noise: str | None = _field(None, "uniform (in [-1, 1], as the deck) or normal")
    learning_rate: float | None = _field(None, "Learning rate of both optimizers")
    beta_1: float | None = _field(None, "Adam beta_1 (both models)")
    beta_2: float | None = _field(None, "Adam beta_2 (both models)")
    weight_decay: float | None = _field(None, "Adam weight decay (decoupled, Keras's)")
    label_smoothing: float | None = _field(None, "Target for real images in D's step; 1 for none")
    n_critic: int | None = _field(None, "D (critic) updates per G update")
    dcgan_filters: int = _field(128, "dcgan: filters of the generator's first convolution; dcgan_paper: its width "
                                "(G's last hidden layer, D's first; 128 makes the paper's 1024-512-256-128).")
    cgan_layout: str = _field("concat", "cgan: concat (z and y concatenated first) or paper (z->200, y->1000).")
    filters: int | None = _field(None, "cyclegan, srgan, srresnet: filters of the generator's first convolution "
                                 "(and of the discriminators').")
    blocks: int | None = _field(None, "cyclegan, srgan, srresnet: residual blocks of the generator.")
    lambda_cycle: float = _field(10.0, "cyclegan: weight of the cycle-consistency loss; the identity loss weighs half.")
    scale: int = _field(4, "srgan, srresnet: the upscaling factor (2, 4 or 8; it must divide the image size).")
    vgg_weights: str = _field("", "srgan: Keras's VGG19 ImageNet weights without the top (.h5) for the content loss, "
                              "as the paper's (block5_conv4 features / 12.75); default: the dataset classifier's "
                              "features. Read when training starts; a resumed run has them in its checkpoint.")
    init_generator: str = _field("", "srgan: start G from the generator.keras of a trained srresnet run (or its "
                                 "folder) of the same --filters, --blocks and --scale, as the paper does; read when "
                                 "training starts, a resumed run has G in its checkpoint.")
    seed: int = _field(0, "Seed of weights, noise, dropout and shuffling.")
    strategy: str = _field("default", "default (one device), mirrored (every local GPU, or --cpu_replicas logical "
                           "CPU devices; on JAX, Keras's DataParallel) or multi_worker (a cluster from TF_CONFIG; "
                           "TensorFlow only); --batch_size is the global batch.")
    cpu_replicas: int = _field(0, "mirrored on a CPU: split it into N logical devices (to test several devices).")
    precision: str = _field("float32", "float32 (the deck's arithmetic), mixed_bfloat16 or mixed_float16 (Keras dtype "
                            "policies: float32 variables; D's scores and every loss in float32; loss scaling for "
                            "float16). Saved generators compute in float32.")
    output_dir: str = _field("", "Run directory (default runs/MODEL_DATASET).", resumable=True)
    steps_per_epoch: int | None = _field(None, "Cut epochs short, for quick looks.")
    sample_every: int | None = _field(None, "Sample grid every K epochs (and epoch 1, last)", resumable=True)
    sample_rows: int | None = _field(None, "Rows of the sample grid")
    sample_cols: int | None = _field(None, "Columns of the sample grid")
    eval_every: int = _field(0, "Score G every K epochs (--eval_metrics) and keep the best generator as "
                             "generator_best.keras; 0 for never.", resumable=True)
    eval_samples: int = _field(2000, "Generated and real samples per evaluation during training.", resumable=True)
    eval_metrics: str = _field("fid,kid,modes", "Metrics of --eval_every, comma-separated (python -m keras_gan.evaluate --help "
                               "lists them); the first one's headline number picks generator_best.keras.")
    tensorboard: bool = _field(True, "Write TensorBoard summaries to RUN/tensorboard (losses, scores, sample "
                               "grids): tensorboard --logdir runs", resumable=True)
    speedups: bool = _field(True, "Speed-only code where it was measured faster (fused Adam, XLA for a dense "
                            "generator's fakes; TensorFlow on a CPU): --nospeedups trains with Keras's own "
                            "alone (keras_gan/training/speed.py).", resumable=True)
    settings: dict = dataclasses.field(default=None, compare=True, metadata={"help": "", "resumable": False})
    # a folder dataset's class names, recorded when the run is made (the folder's subfolders)
    classes: list | None = dataclasses.field(default=None, metadata={"help": "", "resumable": False, "flag": False})

    def __init__(self, **values):
        known = {f.name: f for f in dataclasses.fields(self)}
        own = registered_settings()
        settings = dict(values.pop("settings", None) or {})
        for name in list(values):
            if name in own:
                settings[name] = values.pop(name)
            elif name not in known:
                raise TypeError(f"unknown setting {name!r}")
        unknown = sorted(set(settings) - set(own))
        if unknown:
            raise TypeError(f"unknown settings {unknown}")
        if isinstance(values.get("dataset"), str) and values["dataset"].startswith(FOLDER + ":"):
            values["dataset"], values["data_dir"] = split_name(values["dataset"], values.get("data_dir"))
        for name, f in known.items():
            object.__setattr__(self, name, values.get(name, f.default))
        object.__setattr__(self, "settings", {name: settings.get(name, s.default) for name, s in sorted(own.items())})
        self._resolve()

    def __getattr__(self, name):  # the settings of losses and penalties read as attributes
        settings = self.__dict__.get("settings") or {}
        if name in settings:
            return settings[name]
        raise AttributeError(f"TrainConfig has no setting {name!r}")

    def __hash__(self):
        return hash(self.to_json(with_folder=True))

    @property
    def preset(self) -> presets.Preset:
        """The model's preset, resolved once when the configuration was made."""
        return self.__dict__["_preset"]

    @property
    def spec(self) -> DatasetSpec:
        """The dataset's spec (image shape, class names), resolved once when the configuration was made."""
        return self.__dict__["_spec"]

    def _resolve(self):
        preset = presets.get(self.model)
        object.__setattr__(self, "_preset", preset)
        smoothing_given = self.label_smoothing is not None
        defaults = {**FALLBACKS, **preset.defaults}
        for field in dataclasses.fields(self):
            if getattr(self, field.name) is None and field.name in defaults:
                object.__setattr__(self, field.name, defaults[field.name])

        def need(ok, msg):
            if not ok:
                raise ConfigError(msg)

        for field in dataclasses.fields(self):  # values from JSON (config.json, experiments) can be anything
            value = getattr(self, field.name)
            need(_has_type(value, field.type), f"--{field.name} must be {_type_name(field.type)}. "
                                               f"Received: {field.name}={value!r}")
        for name, setting in registered_settings().items():
            problem = setting.check(self.settings[name])
            need(problem is None, problem)

        need(self.channels in (0, 1, 3), f"--channels must be 1 (greyscale) or 3 (RGB). Received: channels={self.channels}")
        need(self.image_size == 0 or self.image_size >= 4,
             f"--image_size must be at least 4 pixels. Received: image_size={self.image_size}")
        need(self.data_memory_mb >= 0, f"--data_memory_mb must be >= 0. Received: data_memory_mb={self.data_memory_mb}")
        spec = spec_of(self.dataset, self.data_dir, image_size=self.image_size, channels=self.channels,
                       classes=self.classes)
        object.__setattr__(self, "_spec", spec)
        if self.dataset == FOLDER:  # what the run was made of, in its config.json
            object.__setattr__(self, "classes", list(spec.class_names))
            object.__setattr__(self, "image_size", spec.image_shape[0])
            object.__setattr__(self, "channels", spec.image_shape[2])
        self._check_image_shape(preset, need)
        for name in ("epochs", "batch_size", "noise_dim", "n_critic", "sample_every", "sample_rows",
                     "sample_cols", "dcgan_filters"):
            value = getattr(self, name)
            need(isinstance(value, int) and value > 0, f"--{name} must be a positive integer. Received: {name}={value}")
        need(isinstance(self.eval_every, int) and self.eval_every >= 0,
             f"--eval_every must be 0 (off) or a positive number of epochs. Received: eval_every={self.eval_every}")
        need(isinstance(self.eval_samples, int) and self.eval_samples >= 10,
             f"--eval_samples must be at least 10. Received: eval_samples={self.eval_samples}")
        try:
            metrics.parse(self.eval_metrics)
        except ValueError as e:
            raise ConfigError(f"--eval_metrics: {e}") from None
        need(self.steps_per_epoch is None or self.steps_per_epoch > 0,
             f"--steps_per_epoch must be a positive integer. Received: steps_per_epoch={self.steps_per_epoch}")
        need(self.noise in NOISE_KINDS, f"--noise must be one of {', '.join(NOISE_KINDS)}. Received: noise={self.noise!r}")
        need(self.learning_rate > 0, f"--learning_rate must be positive. Received: learning_rate={self.learning_rate}")
        need(0 <= self.beta_1 < 1, f"--beta_1 must be in [0, 1). Received: beta_1={self.beta_1}")
        need(0 <= self.beta_2 < 1, f"--beta_2 must be in [0, 1). Received: beta_2={self.beta_2}")
        need(self.weight_decay >= 0, f"--weight_decay must be >= 0. Received: weight_decay={self.weight_decay}")
        need(0 < self.label_smoothing <= 1,
             f"--label_smoothing (the target for real images) must be in (0, 1]. "
             f"Received: label_smoothing={self.label_smoothing}")
        need(not (smoothing_given and self.label_smoothing != 1 and not preset.uses_label_smoothing),
             f"--label_smoothing does not apply to --model={self.model}: its {preset.loss} loss has no "
             f"real-image label. Received: label_smoothing={self.label_smoothing}")
        need(self.strategy in STRATEGIES,
             f"--strategy must be one of {', '.join(STRATEGIES)}. Received: strategy={self.strategy!r}")
        need(self.cpu_replicas >= 0 and (self.cpu_replicas == 0 or self.strategy == "mirrored"),
             f"--cpu_replicas applies to --strategy=mirrored and must be >= 0. Received: cpu_replicas={self.cpu_replicas}")
        need(self.precision in PRECISIONS,
             f"--precision must be one of {', '.join(PRECISIONS)}. Received: precision={self.precision!r}")
        if preset.task != "noise":
            self._check_image_task(preset, need)
        need(not self.vgg_weights or preset.task == "srgan",
             f"--vgg_weights is the content loss of --model=srgan; --model={self.model} has none. Leave it out.")
        need(not self.init_generator or preset.task == "srgan",
             f"--init_generator starts SRGAN's generator from a trained SRResNet; --model={self.model} takes none. "
             "Leave it out.")
        need(self.cgan_layout in CGAN_LAYOUTS,
             f"--cgan_layout must be one of {', '.join(CGAN_LAYOUTS)}. Received: cgan_layout={self.cgan_layout!r}")

    def _check_image_shape(self, preset, need):
        """What the convolutional GANs accept (the others take images of any shape)."""
        shape = "x".join(map(str, self.spec.image_shape))
        where = f"--dataset={self.dataset}'s images are {shape}"
        if preset.architecture == "paper":
            try:
                networks.paper_depth(self.spec.image_shape)
            except ValueError:
                raise ConfigError(f"--model={self.model} doubles 4x4 images to a side of 8, 16, 32, 64, 128 ...; "
                                  f"{where}. Use --model=dcgan for these, or a folder dataset at "
                                  "--image_size=64.") from None
        elif preset.task == "noise" and preset.convolutional:
            height, width, _ = self.spec.image_shape
            need(height % 4 == 0 and width % 4 == 0,
                 f"--model={self.model} upsamples twice: it needs a height and width divisible by 4; {where}.")
        if preset.conditional:
            need(len(self.spec.class_names) >= 2,
                 f"--model={self.model} learns one distribution per class and {self.dataset} has one class: "
                 "give the folder class subfolders (one per class), or train an unconditional model.")

    def _check_image_task(self, preset, need):
        """What a model that learns from images (cyclegan, srgan, srresnet) accepts."""
        model = f"--model={self.model}"
        for name in ("filters", "blocks"):
            value = getattr(self, name)
            need(isinstance(value, int) and value > 0, f"--{name} must be a positive integer. Received: {name}={value}")
        need(self.n_critic == 1, f"{model} updates each discriminator once per step: --n_critic must be 1.")
        need(self.eval_every == 0, f"--eval_every scores generators of noise; {model} translates images, and "
                                   "python -m keras_gan.experiment scores it on its test pairs. Leave --eval_every at 0.")
        need(self.sample_cols == preset.grid_columns,
             f"{model}'s sample grid shows {preset.grid_columns} images to a row (an input and its outputs): "
             f"--sample_cols must be {preset.grid_columns}, or left out. Received: sample_cols={self.sample_cols}")
        need(self.lambda_cycle > 0, f"--lambda_cycle must be positive. Received: lambda_cycle={self.lambda_cycle}")
        height, width, _ = self.spec.image_shape
        step = 4 if preset.task == "cyclegan" else self.scale  # the ResNet generator halves the image twice
        need(self.scale in (2, 4, 8), f"--scale must be 2, 4 or 8. Received: scale={self.scale}")
        need(height % step == 0 and width % step == 0,
             f"{model} needs images whose size divides by {step}; {self.dataset}'s are {height}x{width}.")

    @property
    def data_name(self) -> str:
        """The data's name in titles and messages: the dataset's, or a folder dataset's folder name."""
        if self.dataset == FOLDER and self.data_dir:
            return os.path.basename(os.path.normpath(os.path.expanduser(self.data_dir))) or FOLDER
        return self.dataset

    @property
    def run_dir(self) -> str:
        return self.output_dir or os.path.join("runs", f"{self.model}_{self.data_name}")

    def values(self, *, with_folder: bool = False) -> dict:
        """Every field and setting as one flat dict: what config.json holds. Without `with_folder`, not
        `output_dir`, the folder itself, so that a run folder names no location and can be moved."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "settings"}
        if values["classes"] is None:  # only folder datasets record their classes
            del values["classes"]
        values.update(self.settings)
        if not with_folder:
            del values["output_dir"]
        return values

    def to_json(self, *, with_folder: bool = False) -> str:
        return json.dumps(self.values(with_folder=with_folder), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, output_dir: str = "") -> "TrainConfig":
        """The configuration of config.json text, for the run folder `output_dir` (where it was read)."""
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ConfigError(f"expected a JSON object of settings, found {type(values).__name__}")
        values.pop("output_dir", None)  # earlier versions wrote it; the folder is where the file is
        unknown = sorted(set(values) - set(names()))
        if unknown:
            raise ConfigError(f"unknown keys {unknown}; was it written by another version?")
        try:
            return cls(**values, output_dir=output_dir)
        except TypeError as e:  # a value of the wrong type, compared or counted while resolving
            raise ConfigError(f"a value has the wrong type ({e})") from None

    def changes_from(self, saved: "TrainConfig") -> dict:
        """{name: (saved value, this value)} for every setting that a resumed run may not change."""
        old, new = saved.values(with_folder=True), self.values(with_folder=True)
        return {k: (old[k], new[k]) for k in new if k not in resumable() and old[k] != new[k]}


def names() -> list[str]:
    """Every field and registered setting: the keys of config.json and the train command's flags."""
    return [f.name for f in dataclasses.fields(TrainConfig) if f.name != "settings"] + sorted(registered_settings())


def resumable() -> frozenset:
    """What a resumed run may change."""
    return frozenset(f.name for f in dataclasses.fields(TrainConfig) if f.metadata["resumable"])


def flag_specs() -> list[tuple[str, type, object, str]]:
    """(name, type, default, help) of every flag of the train command, from the declarations above."""
    specs = []
    for f in dataclasses.fields(TrainConfig):
        if f.name == "settings" or f.metadata.get("flag") is False:
            continue
        kind = next(k for k in typing.get_args(f.type) or (f.type,) if k is not type(None))
        help_text = f.metadata["help"].replace("{presets}", ", ".join(presets.PRESETS))
        specs.append((f.name, kind, f.default, help_text + (PRESET if f.name in from_presets() else "")))
    for name, setting in sorted(registered_settings().items()):
        specs.append((name, type(setting.default), setting.default, setting.help))
    return specs


def from_presets() -> set[str]:
    """The settings whose default is the model's preset's."""
    return set(FALLBACKS).union(*(p.defaults for p in presets.PRESETS.values()))


def flags_table() -> str:
    """Every flag of the train command as a Markdown table (keras_gan/training/README.md holds it; a
    test checks that it is this table): its default (the vanilla preset's value where the model's
    preset decides), whether --resume may change it, and its help."""
    vanilla = TrainConfig().values(with_folder=True)
    rows = ["| flag | default | `--resume` may change | meaning |", "|---|---|---|---|"]
    for name, kind, default, help_text in flag_specs():
        if name in from_presets():
            shown = f"preset ({vanilla[name]})" if vanilla.get(name) is not None else "preset"
        elif default is None:
            shown = "–"
        else:
            shown = f"`{default}`" if default != "" else "–"
        may = "yes" if name in resumable() else ""
        rows.append(f"| `--{name}` | {shown} | {may} | {help_text.removesuffix(PRESET).replace('|', '/')} |")
    return "\n".join(rows)


def _has_type(value, annotation) -> bool:
    kinds = typing.get_args(annotation) or (annotation,)
    if value is None or isinstance(value, bool):
        return type(value) in kinds
    if isinstance(value, int) and float in kinds:  # JSON writes 1.0 as 1
        return True
    return isinstance(value, tuple(k for k in kinds if k is not type(None)))


def _type_name(annotation) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "an object",
             list: "a list"}
    return " or ".join(names[k] for k in typing.get_args(annotation) or (annotation,) if k is not type(None))


def arrays_for(config: TrainConfig, log=print) -> Arrays:
    """The data `config` trains on, read (a folder dataset at its image size, channels and classes)."""
    return load_arrays(config.dataset, config.data_dir, image_size=config.image_size, channels=config.channels,
                       classes=config.classes, memory_mb=config.data_memory_mb, cache=config.data_cache, log=log)


def read_config(folder: str) -> TrainConfig:
    """The TrainConfig saved in `folder`/config.json, for the folder where it lies now."""
    path = os.path.join(folder, CONFIG)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise RunFileError(f"{path} not found: {folder} is not the folder of a keras_gan.train run "
                           "(pass the folder that holds config.json and checkpoint.npz).") from None
    except (OSError, UnicodeDecodeError) as e:
        raise RunFileError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}.") from None
    try:
        return TrainConfig.from_json(text, output_dir=folder)
    except ValueError as e:  # not JSON, not an object, unknown keys, bad values
        raise RunFileError(f"{path} is damaged: {str(e).splitlines()[0]}. Restore it from a copy of the run, "
                           "or train a new run in another --output_dir.") from None


def config_beside(path: str) -> TrainConfig | None:
    """The TrainConfig of the run folder that holds `path` (a generator file), or None if that folder
    has no config.json (a generator copied out of its run)."""
    folder = os.path.dirname(os.path.abspath(path))
    return read_config(folder) if os.path.isfile(os.path.join(folder, CONFIG)) else None
