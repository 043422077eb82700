"""What the training loop (loop.py) trains: one `Task` per kind of member of the family.

A task builds its model from the run's TrainConfig, serves each epoch's batches, runs one training
step and draws the sample grid; the loop around it (resume, divergence checks, callbacks, the run
folder) is the same for all of them.

    noise     a GAN of keras_gan/models/gan.py (vanilla ... wgan_gp): a step is n_critic D updates, each
              on its own real batch and new noise, then one G update. Grid: G of a fixed noise batch.
    cyclegan  keras_gan/models/cyclegan.py on edges <-> images (keras_gan/data/domains.py): a step is
              one update of D_A, D_B and both generators on a batch of each domain. Grid rows: a, G(a),
              F(G(a)), b, F(b), G(F(b)) of fixed test pairs (b is a's ground truth).
    srgan     keras_gan/models/srgan.py: a step is one D and one G update on a batch of images and their
              box-downsampled inputs; srresnet trains G alone. Grid rows: the input (nearest
              neighbour), bicubic upsampling, G's output, the real image.

Every model returns its losses by name (`loss_names`), lists its networks for the run folder
(`exports`) and its state for the checkpoint (keras_gan/models/state.py).
"""

import os

import keras
import numpy as np

from keras_gan.data import transforms
from keras_gan.data.domains import edges_and_images
from keras_gan.data.pipeline import FilePipeline, Pipeline, to_unit_range
from keras_gan.errors import ConfigError
from keras_gan.evaluation import features
from keras_gan.io.keras_files import load_weights_from
from keras_gan.models import cyclegan, losses, networks, penalties, srgan
from keras_gan.models.gan import GAN
from keras_gan.models.sampling import make_noise
from keras_gan.runs import folder as run_folder
from keras_gan.runs.config import TrainConfig
from keras_gan.training import speed


def fixed_noise(config: TrainConfig) -> np.ndarray:
    """The noise batch shown in every sample grid of a run (the same batch across epochs)."""
    rng = np.random.default_rng([config.seed, 0xF1ED])
    return make_noise(rng, config.sample_rows * config.sample_cols, config.noise_dim, config.noise)


def fixed_labels(config: TrainConfig, num_classes: int) -> np.ndarray:
    """Labels of a conditional model's sample grid: row r shows class r (seeds/002's class grid)."""
    return np.repeat(np.arange(config.sample_rows) % num_classes, config.sample_cols)


def make_optimizer(config: TrainConfig, learning_rate=None):
    """The preset's optimizer at `config`'s settings (`learning_rate`: a schedule instead of the rate)."""
    rate = config.learning_rate if learning_rate is None else learning_rate
    if config.preset.optimizer == "rmsprop":
        # rho 0.99: the decay of the WGAN authors' RMSProp (PyTorch's default alpha).
        optimizer = keras.optimizers.RMSprop(rate, rho=0.99)
    else:
        optimizer = speed.adam(config.speedups, rate, beta_1=config.beta_1, beta_2=config.beta_2,
                               weight_decay=config.weight_decay or None)
    if config.precision == "mixed_float16":  # float16 gradients underflow without a (dynamic) loss scale
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def build_gan(config: TrainConfig) -> GAN:
    """The GAN of `config`'s preset, with the run's hyper-parameters and its loss's and penalty's settings."""
    preset = config.preset
    with networks.dtype_policy(config.precision):
        generator, discriminator = preset.build_networks(
            noise_dim=config.noise_dim, image_shape=config.spec.image_shape, num_classes=len(config.spec.class_names),
            dcgan_filters=config.dcgan_filters, cgan_layout=config.cgan_layout)
    own = {s.name for s in (*losses.get(preset.loss).settings, *penalties.get(preset.penalty).settings)}
    return GAN(generator, discriminator, loss=preset.loss, penalty=preset.penalty,
               label_smoothing=config.label_smoothing, d_optimizer=make_optimizer(config),
               g_optimizer=make_optimizer(config), fakes_in_training_mode=preset.fakes_in_training_mode,
               jit_fakes=speed.jit_fakes(config.speedups, generator, preset.fakes_in_training_mode),
               **{k: v for k, v in config.settings.items() if k in own})


class Task:
    """One kind of training: see the module's docstring. `num_train` examples make one pass of the
    data; a step takes `batches_per_step` batches of it; `images_per_step` counts a step's images."""

    batches_per_step = 1

    streams = False  # whether it can train on a folder that streams from disk

    def __init__(self, config: TrainConfig, arrays, log=print, resume: bool = False):
        self.config, self.preset, self.arrays, self.log, self.resume = config, config.preset, arrays, log, resume
        self.image_shape = config.spec.image_shape
        if arrays.stream is not None and not self.streams:
            raise ConfigError(f"--model={config.model} trains on images in memory, and the training images of "
                              f"{arrays.source} are more than --data_memory_mb={config.data_memory_mb}: raise it "
                              f"(they need {arrays.num_train * int(np.prod(self.image_shape)) / 2**20:.0f} MiB).")

    @property
    def images_per_step(self) -> int:
        return self.config.batch_size * self.batches_per_step

    def build(self, steps_per_epoch: int):
        raise NotImplementedError

    def batches(self, epoch: int, steps: int):
        """An iterator over the batches of `steps` steps of epoch `epoch` (the same on a resumed run)."""
        raise NotImplementedError

    def step(self, model, batches, rng: np.random.Generator) -> dict[str, float]:
        raise NotImplementedError

    def grid(self, model) -> np.ndarray:
        """The sample grid's images, row by row (`config.sample_rows` x `config.sample_cols`)."""
        raise NotImplementedError

    def panels(self, model) -> list[tuple[str, tuple[str, ...]]]:
        """The loss curves' panels: (y label, the losses drawn on it)."""
        return [(f"{self.preset.loss.replace('_', ' ')} loss", model.loss_names)]

    def title(self, epoch: int) -> str:
        return f"{self.config.model} GAN on {self.config.data_name}, epoch {epoch}"


class NoiseTask(Task):
    streams = True

    def __init__(self, config, arrays, log=print, resume=False):
        super().__init__(config, arrays, log, resume)
        preset = self.preset
        self.batches_per_step = config.n_critic
        self.num_train = arrays.num_train
        self.num_classes = len(config.spec.class_names)
        if arrays.stream is not None:
            self.pipeline = FilePipeline(arrays.stream, labels=preset.conditional, flatten=not preset.convolutional)
        else:
            self.pipeline = Pipeline(arrays.x_train, arrays.y_train if preset.conditional else None,
                                     flatten=not preset.convolutional)
        self.noise = fixed_noise(config)
        self.labels = fixed_labels(config, self.num_classes) if preset.conditional else None
        streamed = " (streamed from disk)" if arrays.stream is not None else ""
        self.description = f"{self.num_train} training images from {arrays.source}{streamed}"

    def build(self, steps_per_epoch):
        return build_gan(self.config)

    def batches(self, epoch, steps):
        c = self.config
        return iter(self.pipeline.epoch(batch_size=c.batch_size, seed=c.seed, epoch=epoch, steps=steps * c.n_critic))

    def step(self, gan, batches, rng):
        c, conditional = self.config, self.preset.conditional

        def draw():
            return make_noise(rng, c.batch_size, c.noise_dim, c.noise)

        def draw_labels():
            return rng.integers(0, self.num_classes, c.batch_size) if conditional else None

        d_losses = []
        for _ in range(c.n_critic):
            real, labels = next(batches) if conditional else (next(batches), None)
            d_losses.append(gan.discriminator_step(real, draw(), labels, draw_labels()))
        return {"d_loss": float(np.mean(d_losses)), "g_loss": gan.generator_step(draw(), draw_labels())}

    def grid(self, gan):
        return gan.sample(self.noise, self.labels)


class CycleGANTask(Task):
    def __init__(self, config, arrays, log=print, resume=False):
        super().__init__(config, arrays, log, resume)
        self.domains = edges_and_images(arrays)
        self.num_train = min(len(self.domains.a_train), len(self.domains.b_train))
        self.streams = [Pipeline(x, flatten=False) for x in (self.domains.a_train, self.domains.b_train)]
        rows = config.sample_rows
        self.fixed = [to_unit_range(x[:rows]) for x in (self.domains.a_test, self.domains.b_test)]
        self.description = f"{self.domains.describe()}, from {arrays.source}"

    def build(self, steps_per_epoch):
        c = self.config
        total = c.epochs * steps_per_epoch  # the rate held for the first half, then linearly to 0
        with networks.dtype_policy(c.precision):
            nets = cyclegan.build_networks(self.image_shape, filters=c.filters, blocks=c.blocks)
        schedule = cyclegan.HoldThenDecay(c.learning_rate, total // 2, total - total // 2)
        return cyclegan.CycleGAN(*nets, lambda_cycle=c.lambda_cycle, seed=c.seed, real_target=c.label_smoothing,
                                 optimizers=[make_optimizer(c, schedule) for _ in range(3)])

    def batches(self, epoch, steps):
        c = self.config
        a, b = (s.epoch(batch_size=c.batch_size, seed=(c.seed, i), epoch=epoch, steps=steps)
                for i, s in enumerate(self.streams))
        return zip(a, b)

    def step(self, model, batches, rng):
        a, b = next(batches)
        return model.train_step(np.asarray(a), np.asarray(b))

    def grid(self, model):
        return model.translate(*self.fixed)

    def panels(self, model):
        return [("least-squares loss (D), weighted total (G)", ("d_a_loss", "d_b_loss", "g_loss")),
                ("unweighted terms of G's loss", cyclegan.TERMS)]

    def title(self, epoch):
        return f"cyclegan on {self.config.data_name}, epoch {epoch}: a, G(a), F(G(a)) | b, F(b), G(F(b))"


class SuperResolutionTask(Task):
    def __init__(self, config, arrays, log=print, resume=False):
        super().__init__(config, arrays, log, resume)
        self.num_train = len(arrays.x_train)
        self.pipeline = Pipeline(arrays.x_train, flatten=False)
        hr = to_unit_range(arrays.x_test[:config.sample_rows])
        self.fixed = (transforms.downsample(hr, config.scale), hr)
        h, w, _ = self.image_shape
        self.description = (f"{self.num_train} training images from {arrays.source}, "
                            f"x{config.scale}: {h // config.scale}x{w // config.scale} -> {h}x{w}")

    def build(self, steps_per_epoch):
        c = self.config
        h, w, channels = self.image_shape
        adversarial = self.preset.task == "srgan"
        with networks.dtype_policy(c.precision):
            generator = srgan.srresnet_generator((h // c.scale, w // c.scale, channels), scale=c.scale,
                                                 filters=c.filters, blocks=c.blocks)
            critic = srgan.discriminator(self.image_shape, filters=c.filters) if adversarial else None
        if c.init_generator and not self.resume:  # a resumed run has G in its checkpoint
            source = c.init_generator
            if os.path.isdir(source):  # a run's folder: its generator
                source = os.path.join(source, run_folder.GENERATOR)
            load_weights_from(generator, source, "--init_generator")
            self.log(f"the generator starts from {c.init_generator}")
        content = self.content_network() if adversarial else None
        return srgan.SRGAN(generator, critic, content, adversarial=adversarial, real_target=c.label_smoothing,
                           optimizers=[make_optimizer(c) for _ in range(2)])

    def content_network(self):
        """SRGAN's feature network: VGG19's (--vgg_weights) or the dataset classifier's. A resumed run builds
        it without its weights, which its checkpoint holds, so it needs neither the file nor the cache."""
        c, load = self.config, not self.resume
        if c.vgg_weights:
            return features.vgg_content_network(c.vgg_weights, self.image_shape, load=load)
        return features.content_network(self.arrays, log=self.log, load=load)

    def batches(self, epoch, steps):
        c = self.config
        return iter(self.pipeline.epoch(batch_size=c.batch_size, seed=c.seed, epoch=epoch, steps=steps))

    def step(self, model, batches, rng):
        hr = np.asarray(next(batches))
        return model.train_step(transforms.downsample(hr, self.config.scale), hr)

    def grid(self, model):
        lr, hr = self.fixed
        sr = keras.ops.convert_to_numpy(model.generator(lr, training=False))
        rows = [transforms.upsample_nearest(lr, self.config.scale), transforms.upsample_bicubic(lr, self.config.scale),
                sr, hr]
        return np.stack(rows, axis=1).reshape((-1, *hr.shape[1:]))

    def panels(self, model):
        if not model.adversarial:
            return [("pixel-wise mean squared error", ("g_loss",))]
        return [("D's cross-entropy, G's perceptual loss", ("d_loss", "g_loss")),
                ("unweighted terms of G's loss", ("content", "adversarial"))]

    def title(self, epoch):
        return (f"{self.config.model} on {self.config.data_name}, epoch {epoch}: input, bicubic, "
                f"{self.config.model}, real")


TASKS = {"noise": NoiseTask, "cyclegan": CycleGANTask, "srgan": SuperResolutionTask,
         "srresnet": SuperResolutionTask}


def make(config: TrainConfig, arrays, log=print, resume: bool = False) -> Task:
    """The task of `config`'s preset on `arrays` (`resume`: for a run that restores its state from a
    checkpoint)."""
    return TASKS[config.preset.task](config, arrays, log, resume)
