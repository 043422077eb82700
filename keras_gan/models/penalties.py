"""Ways of keeping a Wasserstein critic (roughly) 1-Lipschitz.

A penalty is a function with one signature,

    term = penalty(critic, real, fake, labels=None, *, seed=None)

returning a scalar added to the critic's loss in its own training step (`labels` is the one-hot
condition of a conditional critic, the same for both halves; `seed` is a `keras.random`
seed). Weight clipping is not a loss term: it is a constraint that the optimizer applies to every
critic weight right after each of its updates (Keras runs `variable.constraint` after
`apply_gradients`), so it never touches the generator step.

Each penalty is registered (`register`) as a `Penalty`: its settings (keras_gan/registry.py) with
their defaults, and one or both of two hooks, given the run's values of those settings:
`loss_term(settings)` returns the term added to the critic's loss (the GAN then trains the critic
through `PenalizedCritic`), and `constrain(critic, settings)` acts on the critic's weights once,
when the GAN is built. A new penalty is its own functions and one `register` call.
"""

import dataclasses
import functools
from collections.abc import Callable

import keras
from keras import ops

from keras_gan import backend
from keras_gan.registry import Registry, Setting, non_negative, positive


def gradient_penalty(critic, real, fake, labels=None, *, seed=None, weight: float = 10.0, alpha=None):
    """WGAN-GP (Gulrajani et al. 2017, arXiv:1704.00028, Algorithm 1, lambda = 10).

    x_hat = alpha * x + (1 - alpha) * G(z),  alpha ~ U[0, 1], one coefficient per sample
    term  = weight * E[(||grad_x_hat D(x_hat)||_2 - 1)^2],  the norm over all non-batch axes

    `alpha` (shape (n,)) may be given, for tests; otherwise it is drawn with `seed`.
    """
    n = ops.shape(real)[0]
    if alpha is None:
        # Under tf.distribute every replica draws the global batch's coefficients from the same seed and
        # takes its own slice, so that R replicas use the coefficients one device would.
        context = backend.replica_context()
        replicas = context.num_replicas_in_sync if context else 1
        alpha = keras.random.uniform((n * replicas,), seed=seed)
        if replicas > 1:
            alpha = alpha[context.replica_id_in_sync_group * n:(context.replica_id_in_sync_group + 1) * n]
    alpha = ops.reshape(ops.cast(alpha, real.dtype), (-1,) + (1,) * (len(real.shape) - 1))
    x_hat = alpha * real + (1.0 - alpha) * fake
    grads = backend.input_gradient(
        lambda x: ops.cast(critic(x if labels is None else [x, labels], training=True), "float32"), x_hat)
    axes = list(range(1, len(grads.shape)))
    # The epsilon keeps the square root differentiable at a zero gradient.
    norms = ops.sqrt(ops.sum(ops.square(grads), axis=axes) + 1e-12)
    return weight * ops.mean(ops.square(norms - 1.0))


@keras.saving.register_keras_serializable(package="keras_gan")
class ClipWeights(keras.constraints.Constraint):
    """Weight clipping (Arjovsky et al. 2017, Algorithm 1): w <- clip(w, -c, c) after each update."""

    def __init__(self, clip_value: float = 0.01):
        self.clip_value = float(clip_value)

    def __call__(self, w):
        return ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self):
        return {"clip_value": self.clip_value}


def clip_weights(model: keras.Model, clip_value: float = 0.01) -> None:
    """Puts `ClipWeights(clip_value)` on every trainable weight of `model` and clips them now."""
    constraint = ClipWeights(clip_value)
    for v in model.trainable_weights:
        v.constraint = constraint
        v.assign(constraint(v))


@dataclasses.dataclass(frozen=True)
class Penalty:
    name: str
    settings: tuple[Setting, ...] = ()
    loss_term: Callable[[dict], Callable] | None = None  # settings -> term(critic, real, fake, labels, *, seed)
    constrain: Callable[[keras.Model, dict], None] | None = None  # acts on the critic once, at build time


PENALTIES = Registry("penalty")
register, get = PENALTIES.add, PENALTIES.named


register(Penalty("none"))
register(Penalty(
    "weight_clipping",
    settings=(positive("clip_value", 0.01, "wgan: critic weights are clipped to [-clip_value, clip_value]."),),
    constrain=lambda critic, s: clip_weights(critic, s["clip_value"])))
register(Penalty(
    "gradient_penalty",
    settings=(non_negative("gp_weight", 10.0, "wgan_gp: the gradient penalty's lambda."),),
    loss_term=lambda s: functools.partial(gradient_penalty, weight=s["gp_weight"])))
