"""GAN losses under one contract: scores of real and generated images in, both players' losses out.

    d_loss, g_loss = loss(d_real, d_fake, real_target=1.0)

`d_real` and `d_fake` are D's raw outputs on a batch of real and of generated images: the scores
of its last, linear layer (logits, for the cross-entropy losses). `real_target` is the label of
real images: 1, or 0.9 for one-sided label smoothing (Salimans et al. 2016), a number or one per
sample. The generator step has no real batch and passes `d_real=None`; `d_loss` is then None.
Both losses are minimised. Scores are reduced by their mean over the batch, in float32.

The cross-entropy losses are computed from the logits x, never from sigmoid(x): with
-log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x), the binary cross-entropy of
target t is softplus(x) - t x, exact for every x. Computed from probabilities, as a sigmoid layer
followed by Keras's clipped binary cross-entropy does once the batch is sliced, a sample on which D
saturates (|x| beyond about 16) contributes no gradient at all. D's network therefore ends in a
linear layer during training; `EXPORT_ACTIVATION` is what the exported discriminator.keras puts back
on top (the slide deck's sigmoid), so that file still outputs the probability that an image is real.

The cross-entropy and least-squares discriminator losses average the real and the generated half,
which is what Keras computes when D trains on `concat([real, fake])` as in the slide deck.

Each loss is registered (`register`) as a `Loss`: its function, the activation that the exported
discriminator.keras puts on D's score, whether it has a label for real images (which label
smoothing sets), and its own settings (keras_gan/registry.py), with defaults. A new loss is a
function and one `register` call, in this file or another; a preset (keras_gan/models/presets.py)
names it.

`as_keras_losses` turns a registered loss into the two `keras.losses.Loss` objects compiled into
D (which sees `concat([real, fake])`, real first) and into the combined model.
"""

import dataclasses
import functools
from collections.abc import Callable
from typing import NamedTuple

import keras
from keras import ops

from keras_gan import backend
from keras_gan.registry import Registry, Setting


class LossPair(NamedTuple):
    d_loss: object
    g_loss: object


def _scores(x):
    return ops.cast(x, "float32")


def _bce(target, logits):
    """Mean binary cross-entropy of sigmoid(logits) against `target`: softplus(x) - t x."""
    x = _scores(logits)
    return ops.mean(ops.softplus(x) - ops.cast(target, "float32") * x)


def minimax(d_real, d_fake, real_target=1.0) -> LossPair:
    """The original GAN objective (Goodfellow et al. 2014, arXiv:1406.2661, eq. 1).

    d_loss = 1/2 (E[-t log D(x) - (1 - t) log(1 - D(x))] + E[-log(1 - D(G(z)))])   (t = real_target)
    g_loss = E[log(1 - D(G(z)))] = -E[softplus(l)]   (saturating: its gradient vanishes when D wins)
    with D = sigmoid(l), l the logit.
    """
    g_loss = -ops.mean(ops.softplus(_scores(d_fake)))
    if d_real is None:
        return LossPair(None, g_loss)
    return LossPair(0.5 * (_bce(real_target, d_real) + _bce(0.0, d_fake)), g_loss)


def non_saturating(d_real, d_fake, real_target=1.0) -> LossPair:
    """Goodfellow et al. 2014, section 3: G maximises log D(G(z)) instead. The slide deck's loss
    (binary cross-entropy of the combined model against ones).

    d_loss = as `minimax`
    g_loss = E[-log D(G(z))] = E[softplus(-l)]
    """
    g_loss = ops.mean(ops.softplus(-_scores(d_fake)))
    if d_real is None:
        return LossPair(None, g_loss)
    return LossPair(0.5 * (_bce(real_target, d_real) + _bce(0.0, d_fake)), g_loss)


def least_squares(d_real, d_fake, real_target=1.0, *, a=0.0, c=1.0) -> LossPair:
    """LSGAN (Mao et al. 2017, arXiv:1611.04076, eq. 2) with (a, b, c) = (0, 1, 1), b = real_target.

    d_loss = 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]
    g_loss = 1/2 E[(D(G(z)) - c)^2]
    D's output is linear (no sigmoid).
    """
    d_fake = _scores(d_fake)
    g_loss = 0.5 * ops.mean(ops.square(d_fake - c))
    if d_real is None:
        return LossPair(None, g_loss)
    b = ops.cast(real_target, "float32")
    return LossPair(0.5 * ops.mean(ops.square(_scores(d_real) - b)) + 0.5 * ops.mean(ops.square(d_fake - a)), g_loss)


def wasserstein(d_real, d_fake, real_target=None) -> LossPair:
    """WGAN (Arjovsky et al. 2017, arXiv:1701.07875, Algorithm 1): the critic's estimate of the
    earth-mover distance is E[D(x)] - E[D(G(z))]; the critic maximises it, G minimises -E[D(G(z))].

    d_loss = E[D(G(z))] - E[D(x)]
    g_loss = -E[D(G(z))]
    The critic's output is linear; it needs a Lipschitz constraint (see keras_gan/models/penalties.py).
    Label smoothing has no meaning here; `real_target` is ignored.
    """
    d_fake = _scores(d_fake)
    g_loss = -ops.mean(d_fake)
    if d_real is None:
        return LossPair(None, g_loss)
    return LossPair(ops.mean(d_fake) - ops.mean(_scores(d_real)), g_loss)


@dataclasses.dataclass(frozen=True)
class Loss:
    """A registered loss: `fn(d_real, d_fake, real_target, **settings) -> LossPair`."""

    name: str
    fn: Callable
    # What the exported discriminator.keras applies to D's score: "sigmoid" for the cross-entropy
    # losses (the probability that an image is real, the deck's output), None for a raw score.
    export_activation: str | None = None
    real_label: bool = True  # D's loss has a target for real images (which --label_smoothing sets)
    settings: tuple[Setting, ...] = ()

    def __call__(self, d_real, d_fake, real_target=1.0, **settings) -> LossPair:
        return self.fn(d_real, d_fake, real_target, **settings)


LOSSES = Registry("loss")
register, get = LOSSES.add, LOSSES.named


register(Loss("minimax", minimax, export_activation="sigmoid"))
register(Loss("non_saturating", non_saturating, export_activation="sigmoid"))
register(Loss("least_squares", least_squares))
register(Loss("wasserstein", wasserstein, real_label=False))


def per_replica(value):
    """`value` divided by the number of replicas training in sync (1 without tf.distribute). Keras sums
    the replicas' gradients and multiplies the loss it reports back; it divides by the replicas only
    the losses it reduces itself from per-sample values, so a loss that is already a mean, as these
    are, divides itself."""
    replicas = backend.num_replicas()
    return value if replicas == 1 else value / replicas


class _ContractLoss(keras.losses.Loss):
    """A Keras loss around the contract function named `loss` (saved by name in its config)."""

    def __init__(self, loss: str, settings: dict | None = None, name=None, **kwargs):
        super().__init__(name=name or self.default_name, **kwargs)
        self.loss, self.settings = loss, dict(settings or {})
        fn = get(loss).fn
        self.loss_fn = functools.partial(fn, **self.settings) if self.settings else fn

    def get_config(self):
        return {**super().get_config(), "loss": self.loss, "settings": self.settings}


@keras.saving.register_keras_serializable(package="keras_gan")
class DiscriminatorLoss(_ContractLoss):
    """D's compiled loss: y_pred is D on concat([real, fake]) (real first, halves of equal size);
    y_true holds the real images' targets in its first half (its second half, 0, is not read)."""

    default_name = "d_loss"

    def call(self, y_true, y_pred):
        n = ops.shape(y_pred)[0] // 2
        return per_replica(self.loss_fn(y_pred[:n], y_pred[n:], y_true[:n]).d_loss)


@keras.saving.register_keras_serializable(package="keras_gan")
class GeneratorLoss(_ContractLoss):
    """The combined model's compiled loss: y_pred is D(G(z)); y_true is not read."""

    default_name = "g_loss"

    def call(self, y_true, y_pred):
        return per_replica(self.loss_fn(None, y_pred).g_loss)


def as_keras_losses(name: str, **settings) -> tuple[keras.losses.Loss, keras.losses.Loss]:
    """D's and the combined model's compiled losses of the registered loss `name`, with its own
    `settings` (those of other losses and penalties are ignored)."""
    own = {s.name: settings[s.name] for s in get(name).settings if s.name in settings}
    return DiscriminatorLoss(name, own), GeneratorLoss(name, own)
