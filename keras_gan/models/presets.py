"""Named presets: one per GAN of the family, each a paper's (or a seed document's) settings.

A preset fixes the networks, the loss and the penalty, and gives defaults for the
hyper-parameters; any hyper-parameter can still be changed by a flag (`TrainConfig` fields left at
None take the preset's value). `python -m keras_gan.train --model=NAME` picks one.

| preset          | source                           | networks                               | loss, penalty
|-----------------|----------------------------------|----------------------------------------|------------------------------
| vanilla         | seeds/003 (the Keras slide deck) | dense LeakyReLU G, dense D + dropout   | non-saturating
| vanilla_fashion | seeds/000                        | dense ReLU G, dense D + dropout        | non-saturating
| vanilla_bn      | seeds/001 and 004                | dense G with BatchNorm, dense D        | non-saturating
| cgan            | seeds/002, Mirza & Osindero 2014 | label-conditioned dense G and D        | non-saturating
| dcgan           | seeds/004, Radford et al. 2016   | upsample+conv G, strided conv D        | non-saturating
| dcgan_paper     | seeds/004's figure, Radford 2016 | 4x4x1024 -> transposed convs, conv D   | non-saturating
| lsgan           | Mao et al. 2017                  | the deck's, D without sigmoid          | least squares (0, 1, 1)
| wgan            | Arjovsky et al. 2017             | the deck's G, critic without dropout   | Wasserstein, weight clipping
| wgan_gp         | Gulrajani et al. 2017            | the deck's G, critic without dropout   | Wasserstein, gradient penalty
| cyclegan        | Zhu et al. 2017 (seeds/003)      | ResNet G and F, PatchGAN D_A and D_B   | least squares, cycle and identity L1
| srgan           | Ledig et al. 2017 (seeds/003)    | SRResNet G, the paper's conv D         | content (features) + 1e-3 adversarial
| srresnet        | Ledig et al. 2017                | SRResNet G alone                       | pixel-wise mean squared error

The last three learn from images, not from noise (`task`: keras_gan/training/tasks.py): CycleGAN
translates between two unpaired domains (edge maps and images, keras_gan/data/domains.py), SRGAN
and SRResNet map low- to high-resolution images. Their sample grids show inputs beside outputs,
`GRID_COLUMNS` to a row.

G's mode when it makes D's fakes (`fakes_in_training_mode`) matters only where G has BatchNorm or
Dropout; only cgan makes them in training mode, where it was measured far better (the README
beside this file has the measurement).
"""

import dataclasses

from keras_gan.errors import ConfigError
from keras_gan.models import losses, networks, penalties
from keras_gan.registry import Registry


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    summary: str
    loss: str = "non_saturating"
    penalty: str = "none"
    optimizer: str = "adam"          # adam (both models) or rmsprop
    conditional: bool = False
    task: str = "noise"              # noise, cyclegan, srgan or srresnet: what a step learns from (tasks.py)
    convolutional: bool = False      # images travel as (H, W, C) instead of flat
    architecture: str = ""           # which convolutional pair: "" (seeds/004's code) or "paper"
    # D's fakes come from G in training mode (BatchNorm on batch statistics, Dropout on) instead of
    # inference mode; it matters only for generators with BatchNorm or Dropout.
    fakes_in_training_mode: bool = False
    generator: dict = dataclasses.field(default_factory=dict)      # keyword arguments of the builder
    discriminator: dict = dataclasses.field(default_factory=dict)
    defaults: dict = dataclasses.field(default_factory=dict)       # TrainConfig values

    @property
    def grid_columns(self) -> int | None:
        """Images to a row of the sample grid where a row shows one input and its outputs."""
        return GRID_COLUMNS.get(self.task)

    @property
    def uses_label_smoothing(self) -> bool:
        """Whether the loss has a label for real images (the Wasserstein loss has none)."""
        return losses.get(self.loss).real_label

    def check(self) -> None:
        """Raises a ConfigError unless the loss and penalty it names are registered."""
        for get, name in ((losses.get, self.loss), (penalties.get, self.penalty)):
            try:
                get(name)
            except ValueError as e:
                raise ConfigError(f"preset {self.name!r}: {e}") from None

    def build_networks(self, *, noise_dim: int, image_shape, num_classes: int = 10, dcgan_filters: int = 128,
                       cgan_layout: str = "concat"):
        """The preset's (generator, discriminator) of the noise members, not yet compiled. D outputs a raw
        score (a logit for the cross-entropy losses); the exported discriminator.keras adds the loss's
        activation."""
        g_kwargs = dict(self.generator)
        d_kwargs = dict(self.discriminator)
        if self.architecture == "paper":
            return (networks.build_dcgan_paper_generator(noise_dim, image_shape, filters=dcgan_filters, **g_kwargs),
                    networks.build_dcgan_paper_discriminator(image_shape, filters=dcgan_filters, **d_kwargs))
        if self.convolutional:
            return (networks.build_dcgan_generator(noise_dim, image_shape, filters=dcgan_filters, **g_kwargs),
                    networks.build_dcgan_discriminator(image_shape, **d_kwargs))
        if self.conditional:
            g_kwargs["num_classes"] = d_kwargs["num_classes"] = num_classes
            if cgan_layout == "paper":  # z -> 200, y -> 1000, concatenated (1200) -> the image
                g_kwargs.update(branches=(200, 1000), units=())
        return (networks.build_generator(noise_dim, image_shape, **g_kwargs),
                networks.build_discriminator(image_shape, **d_kwargs))


# a row: a, G(a), F(G(a)), b, F(b), G(F(b)); or the input (nearest), bicubic, G's output, the real image
GRID_COLUMNS = {"cyclegan": 6, "srgan": 4, "srresnet": 4}
DECK = dict(noise_dim=10, noise="uniform", learning_rate=2e-4, beta_1=0.5, beta_2=0.999,
            label_smoothing=0.9, epochs=50, batch_size=128, n_critic=1)

PRESETS = Registry("model", check=Preset.check)
register, get = PRESETS.add, PRESETS.named

for _preset in [
    Preset("vanilla", "the Keras slide deck (seeds/003)", defaults=DECK),
    Preset("vanilla_fashion", "seeds/000: noise 128 ~ N(0, 1), ReLU generator, 64 samples every 10 epochs",
           generator=dict(activation="relu"), discriminator=dict(first_init="glorot"),
           defaults={**DECK, "noise_dim": 128, "noise": "normal", "beta_1": 0.9, "epochs": 101,
                     "sample_every": 10, "sample_rows": 8, "sample_cols": 8}),
    Preset("vanilla_bn", "seeds/001 and 004: noise 100 ~ N(0, 1), BatchNorm in G, Adam with weight decay 8e-9",
           generator=dict(units=(128, 256, 512, 1024), batch_norm=True),
           discriminator=dict(units=(512, 256), dropout=0.0, first_init="glorot"),
           defaults={**DECK, "noise_dim": 100, "noise": "normal", "weight_decay": 8e-9, "epochs": 300}),
    Preset("cgan", "seeds/002, Mirza & Osindero 2014: one-hot labels into G and D; a class-grid figure",
           conditional=True, fakes_in_training_mode=True,
           generator=dict(units=(256, 512, 1200), dropout=0.5),
           discriminator=dict(units=(1024, 512, 256), first_init="glorot"),
           defaults={**DECK, "noise_dim": 100, "noise": "normal", "epochs": 200,
                     "sample_rows": 10, "sample_cols": 10}),
    Preset("dcgan", "seeds/004, Radford et al. 2016: upsample+conv generator, strided-conv discriminator",
           convolutional=True,
           defaults={**DECK, "noise_dim": 100, "noise": "normal", "epochs": 25}),
    Preset("dcgan_paper", "seeds/004's figure, Radford et al. 2016: z 100 ~ U(-1, 1) to 4x4x1024, transposed "
           "convolutions to 64x64 (depth from the image size), strided-conv D with BatchNorm",
           convolutional=True, architecture="paper",
           defaults={**DECK, "noise_dim": 100, "epochs": 25}),
    Preset("lsgan", "Mao et al. 2017: least-squares losses with (a, b, c) = (0, 1, 1) on the deck's networks",
           loss="least_squares",
           defaults={**DECK, "label_smoothing": 1.0}),
    Preset("wgan", "Arjovsky et al. 2017: Wasserstein critic, weight clipping 0.01, n_critic 5, RMSProp 5e-5",
           loss="wasserstein", penalty="weight_clipping", optimizer="rmsprop",
           discriminator=dict(dropout=0.0),
           defaults={**DECK, "learning_rate": 5e-5, "label_smoothing": 1.0, "batch_size": 64,
                     "n_critic": 5, "epochs": 100}),
    Preset("wgan_gp", "Gulrajani et al. 2017: gradient penalty 10, n_critic 5, Adam(1e-4, 0.5, 0.9)",
           loss="wasserstein", penalty="gradient_penalty",
           discriminator=dict(dropout=0.0),
           defaults={**DECK, "learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.9, "label_smoothing": 1.0,
                     "batch_size": 64, "n_critic": 5, "epochs": 100}),
    # The paper's 200 epochs are 200,000 updates of one image on about 1,000; Fashion-MNIST's footwear
    # gives 9,000 images per domain, so 20 epochs at batch 32 are 5,600 updates. Half the paper's filters.
    Preset("cyclegan", "Zhu et al. 2017: edges <-> images, ResNet generators, PatchGAN, cycle loss 10, identity 5, "
           "pool of 50, Adam(2e-4, 0.5) decayed to 0 over the second half", loss="least_squares", task="cyclegan",
           convolutional=True,
           defaults={**DECK, "label_smoothing": 1.0, "batch_size": 32, "epochs": 20, "filters": 32, "blocks": 6,
                     "sample_every": 1, "sample_rows": 6, "sample_cols": 6}),
    Preset("srgan", "Ledig et al. 2017: x4 super-resolution, SRResNet G (16 blocks), perceptual loss = content + "
           "1e-3 adversarial, Adam(1e-4, 0.9)", task="srgan", convolutional=True,
           defaults={**DECK, "learning_rate": 1e-4, "beta_1": 0.9, "label_smoothing": 1.0, "batch_size": 16,
                     "epochs": 10, "filters": 64, "blocks": 16, "sample_every": 1, "sample_rows": 8, "sample_cols": 4}),
    Preset("srresnet", "Ledig et al. 2017: x4 super-resolution, SRResNet G alone on the pixel-wise MSE",
           task="srresnet", convolutional=True,
           defaults={**DECK, "learning_rate": 1e-4, "beta_1": 0.9, "label_smoothing": 1.0, "batch_size": 16,
                     "epochs": 10, "filters": 64, "blocks": 16, "sample_every": 1, "sample_rows": 8, "sample_cols": 4}),
]:
    register(_preset)
