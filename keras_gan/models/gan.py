"""A GAN as the Keras slide deck builds it: a discriminator, a generator, and the combined model.

The recipe (Goodfellow et al. 2014, with Salimans et al. 2016's one-sided label smoothing):

* D step: ``D.train_on_batch(concat([real, G(z)]), [0.9] * n + [0] * n)``;
* G step: ``combined.train_on_batch(z', [1] * n)`` where ``combined = D(G(z))`` with D frozen.

Every member of the family runs these same two calls; what differs is plugged in: the networks,
the loss (keras_gan/models/losses.py: D's compiled loss reads the real and generated halves of its batch)
and the penalty (keras_gan/models/penalties.py: weight clipping is a constraint the critic's optimizer
applies after each update; a gradient penalty is added by `PenalizedCritic`, a wrapper whose own
training step adds it). A conditional GAN's models take `[x, one_hot_label]`; the combined model
then feeds the same label to G and D. A Wasserstein critic takes `n_critic` steps per G step; the
training loop (keras_gan/training/loop.py) counts them.

Keras 3 captures which weights a model trains when its train function is traced (its first
`train_on_batch`, and again whenever a new input signature retraces it), not at `compile()`. The
flag `D.trainable` is shared by D on its own and D inside the combined model, so it is set before
*every* call: whatever a trace sees, D's own step trains D alone and the combined step trains G
alone (and BatchNorm inside the frozen D runs in inference mode). tests/models/test_gan.py checks this
on the weights themselves, over many steps and across a checkpoint restore.
"""

import keras
import numpy as np
from keras import ops

from keras_gan import backend
from keras_gan.models import losses, networks, penalties, replicas, sampling
from keras_gan.models.state import Stateful


@keras.saving.register_keras_serializable(package="keras_gan")
class PenalizedCritic(keras.Model):
    """A critic network whose training step adds `penalty(network, real, fake, labels)` to the loss.

    Its batch is D's: ``concat([real, fake])`` (or ``[that, labels]``), real first. Called as a
    layer it is the network itself; only `train_on_batch` differs.
    """

    def __init__(self, network: keras.Model, penalty, seed=None, **kwargs):
        super().__init__(name=network.name, **kwargs)
        self.network = network
        self.penalty = penalty
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=None):
        return self.network(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        images, labels = (x[0], x[1]) if isinstance(x, (list, tuple)) else (x, None)
        n = keras.ops.shape(images)[0] // 2
        return loss + losses.per_replica(self.penalty(self.network, images[:n], images[n:],
                                                      None if labels is None else labels[:n], seed=self.seed_generator))


class GAN(Stateful):
    """Holds G, D and the combined model, and runs one training step of each."""

    loss_names = ("d_loss", "g_loss")

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *,
                 d_optimizer=None, g_optimizer=None, loss: str = "non_saturating",
                 penalty: str = "none", label_smoothing: float = 0.9, fakes_in_training_mode: bool = False,
                 jit_fakes: bool = False, **settings):
        """`settings` are those of the loss and the penalty (`gp_weight`, `clip_value`, ...); the ones
        not given take their declared defaults. `jit_fakes` compiles G's forward pass for D's fakes
        with XLA (a speed-only switch: keras_gan/training/speed.py says where it pays)."""
        last = discriminator.layers[-1] if discriminator.layers else None
        activation = getattr(getattr(last, "activation", None), "__name__", "linear")
        if activation != "linear":
            raise ValueError(f"the discriminator's last layer applies {activation}: D must output a raw score "
                             "(build it with output_activation=None); the losses take logits, and the exported "
                             "discriminator.keras applies the loss's activation.")
        self.generator = generator
        self.network = discriminator  # the plain D network (what is exported)
        self.label_smoothing = float(label_smoothing)
        self.fakes_in_training_mode = bool(fakes_in_training_mode)
        self.conditional = len(generator.inputs) == 2
        self.num_classes = int(generator.inputs[1].shape[-1]) if self.conditional else None
        self.loss, self.penalty = losses.get(loss), penalties.get(penalty)
        declared = {s.name: s.default for s in (*self.loss.settings, *self.penalty.settings)}
        unknown = sorted(set(settings) - set(declared))
        if unknown:
            raise ValueError(f"unknown settings {unknown} for the {loss} loss and the {penalty} penalty")
        self.settings = {**declared, **settings}
        if self.penalty.loss_term is not None:
            discriminator = PenalizedCritic(discriminator, self.penalty.loss_term(self.settings))
        self.discriminator = discriminator
        d_loss, g_loss = losses.as_keras_losses(loss, **self.settings)
        # Two optimizers: a Keras 3 optimizer is built for one list of variables, so the deck's
        # single shared Adam instance cannot serve both models.
        d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        discriminator.trainable = True
        discriminator.compile(optimizer=d_optimizer, loss=d_loss)
        d_optimizer.build(discriminator.trainable_variables)
        if self.penalty.constrain is not None:
            self.penalty.constrain(self.network, self.settings)
        discriminator.trainable = False
        inputs = [keras.Input(shape=t.shape[1:], name=t.name.split(":")[0]) for t in generator.inputs]
        fake = generator(inputs if self.conditional else inputs[0])
        score = self.network([fake, inputs[1]] if self.conditional else fake)
        self.combined = keras.Model(inputs if self.conditional else inputs[0], score, name="gan")
        self.combined.compile(optimizer=g_optimizer, loss=g_loss)
        g_optimizer.build(self.combined.trainable_variables)
        self._labels = {}
        self._d_export = None
        # G's forward pass for D's fakes, compiled once by the backend (keras_gan/backend.py).
        self._generate = backend.compiled_call(generator, self._generate_batch, jit=jit_fakes,
                                               updates_state=self.fakes_in_training_mode)

    def _targets(self, n: int):
        if n not in self._labels:
            real = np.full((n, 1), self.label_smoothing, np.float32)
            d = np.concatenate([real, np.zeros((n, 1), np.float32)])
            self._labels[n] = (d, np.ones((n, 1), np.float32))
        return self._labels[n]

    def _one_hot(self, labels):
        return ops.one_hot(ops.cast(labels, "int32"), self.num_classes)

    def _generate_batch(self, generate, real, noise, real_labels=None, fake_labels=None):
        # One compiled call of G (`generate`). In inference mode, as the deck's `generator.predict(noise)`;
        # in training mode (BatchNorm on the batch's statistics, Dropout on), as the seeds' PyTorch
        # loops make their fakes: D then trains against the function G's own step differentiates.
        training = self.fakes_in_training_mode
        noise = ops.convert_to_tensor(noise)
        if not self.conditional:  # fakes in float32 (a mixed-precision G makes them in bfloat16 or float16)
            fake = ops.cast(generate(noise, training), "float32")
            return ops.concatenate([ops.cast(real, "float32"), fake], axis=0)
        fake_y = self._one_hot(fake_labels)
        fake = ops.cast(generate([noise, fake_y], training), "float32")
        return (ops.concatenate([ops.cast(real, "float32"), fake], axis=0),
                ops.concatenate([self._one_hot(real_labels), fake_y], axis=0))

    def _check_labels(self, *labels):
        if self.conditional and any(y is None for y in labels):
            raise ValueError("this GAN is conditional: pass the class labels of the real and generated images")

    def discriminator_step(self, real, noise, labels=None, fake_labels=None) -> float:
        """One D update on real images (label 0.9) and G(noise) (label 0); returns D's loss.

        For a conditional GAN, `labels` are the real images' classes and `fake_labels` those G is
        asked for (integers)."""
        self._check_labels(labels, fake_labels)
        n = int(real.shape[0])
        d_targets, _ = self._targets(n)
        x = (self._generate(real, noise, labels, fake_labels) if self.conditional
             else self._generate(real, noise))
        self.discriminator.trainable = True
        shards = backend.num_replicas(self.discriminator)
        if shards > 1:  # each replica's shard: its real images, then as many fakes
            order = replicas.interleaved(n, shards)
            x = [ops.take(v, order, axis=0) for v in x] if self.conditional else ops.take(x, order, axis=0)
            d_targets = d_targets[order]
        return replicas.train_on_batch(self.discriminator, x, d_targets)

    def generator_step(self, noise, labels=None) -> float:
        """One G update through the combined model with D frozen; returns G's loss."""
        self._check_labels(labels)
        _, g_targets = self._targets(int(noise.shape[0]))
        self.discriminator.trainable = False
        x = [noise, sampling.one_hot(labels, self.num_classes)] if self.conditional else noise
        return replicas.train_on_batch(self.combined, x, g_targets)

    def train_step(self, real, noise_d, noise_g, labels=None, fake_labels=None,
                   g_labels=None) -> tuple[float, float]:
        return (self.discriminator_step(real, noise_d, labels, fake_labels),
                self.generator_step(noise_g, g_labels))

    def sample(self, noise, labels=None) -> np.ndarray:
        """G's images (inference mode) of given noise vectors and, if conditional, integer labels."""
        return sampling.decode(self.generator, noise, labels)

    def discriminator_for_export(self) -> keras.Model:
        """An uncompiled copy of D with D's current weights and the loss's output activation (the
        deck's sigmoid for the cross-entropy losses), made once and refreshed on each call."""
        if self._d_export is None:
            self._d_export = networks.with_output_activation(self.network, self.loss.export_activation)
        self._d_export.set_weights(self.network.get_weights())
        return self._d_export

    def exports(self) -> dict:
        """The networks a run folder keeps, by file name (without .keras)."""
        return {"generator": self.generator, "discriminator": self.discriminator_for_export()}

    # --- state, for checkpoints (keras_gan/models/state.py) -----------------------------------------
    def _parts(self):
        return {
            "generator": self.generator.variables,
            "discriminator": self.discriminator.variables,  # includes Dropout's seed state
            "d_optimizer": self.discriminator.optimizer.variables,
            "g_optimizer": self.combined.optimizer.variables,
        }
