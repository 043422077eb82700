"""Feature networks: the images-to-features step in front of FID, KID, IS and the manifold metrics.

Two are available:

* `classifier` (the default for MNIST-like data; TF-GAN's `mnist_score` / `mnist_frechet_distance`
  idea): a small convolutional classifier (Adam with a cosine-decayed learning rate) that this
  package trains on the dataset's own training split, once, and keeps as `.keras` in a cache
  folder. A folder dataset's classes are its class subfolders (a folder of one class has no
  classifier: its scores need the FID Inception's weights); a folder that streams trains it on the
  seeded subset of at most 10,000 training images it keeps in memory. Its features are the 128 activations before the softmax; its probabilities feed the
  Inception Score and mode coverage. Its test accuracy is stored beside it and printed with every
  evaluation: it is the floor of what its scores can tell.
* `fid_inception` (`--fid_weights=PATH` or `download`): the network of the reference FID code, the
  Inception of 2015-12-05 with its FID blocks, from pytorch-fid's weights file
  (keras_gan/evaluation/fid_inception.py): FIDs on the scale of papers that use that code.
* `inception` (`--inception_weights=PATH`): Keras's InceptionV3 with weights the user supplies,
  images resized to 299x299 and grey ones repeated to three channels; features are the 2048
  pool activations, probabilities its 1000-way softmax. This is Keras's InceptionV3, not the
  2015 graph the reference FID code (TTUR, TF-GAN, pytorch-fid, clean-fid) uses, whose weights and
  last pooling differ: its numbers are not the papers' either.

SRGAN's content loss takes feature maps from here too: `content_network` (the classifier's, by
default) or `vgg_content_network` (VGG19's, as the paper's, `--vgg_weights=PATH`).

Numbers from the two are on different scales and must never be compared with each other. Nor are
numbers from two classifiers: each description names its network's weights by digest, and the
experiment runner and report compare those.
"""

import dataclasses
import json
import os
import time

import keras
import numpy as np
from keras import layers

from keras_gan import backend
from keras_gan.data.datasets import digest
from keras_gan.data.pipeline import to_unit_range
from keras_gan.errors import ConfigError, ModelFileError, reason
from keras_gan.evaluation import fid_inception
from keras_gan.io.atomic import write_text
from keras_gan.io.keras_files import load_network, save_network

FEATURES_LAYER = "features"
BATCH = 500
# On a 2-core CPU, ten epochs took 12 minutes (93.07% test accuracy on Fashion-MNIST), more than a
# from-nothing `make experiment` can afford; five took 6.5 minutes (91.90%).
CLASSIFIER_EPOCHS = 5


def cache_dir() -> str:
    """Where trained classifiers are kept: $KERAS_GAN_CACHE, else ~/.cache/keras_gan."""
    return os.environ.get("KERAS_GAN_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "keras_gan")


def build_classifier(image_shape, num_classes: int = 10):
    """Two blocks of two 3x3 convolutions (32, then 64 filters) with BatchNorm and max-pooling, then a
    128-unit feature layer and the softmax."""
    body = []
    for filters in (32, 64):
        for _ in range(2):
            body += [layers.Conv2D(filters, 3, padding="same", use_bias=False), layers.BatchNormalization(),
                     layers.ReLU()]
        body.append(layers.MaxPooling2D())
    return keras.Sequential([
        keras.Input(shape=tuple(image_shape), name="image"), *body,
        layers.Flatten(), layers.Dropout(0.3),
        layers.Dense(128, activation="relu", name=FEATURES_LAYER), layers.Dropout(0.3),
        layers.Dense(num_classes, activation="softmax", name="probabilities"),
    ], name="classifier")


@dataclasses.dataclass
class FeatureNetwork:
    """Maps images in [-1, 1], (n, H, W, C), to (features, class probabilities), in batches."""

    name: str
    model: object            # a Keras model with outputs [features, probabilities]
    image_shape: tuple
    description: str
    preprocess: object = None

    def __call__(self, images, batch_size: int = BATCH, progress: bool = False):
        images = np.asarray(images, np.float32).reshape((-1, *self.image_shape))
        feats, probs = [], []
        bar = keras.utils.Progbar(len(images), verbose=1 if progress else 0, unit_name="image")
        for i in range(0, len(images), batch_size):
            x = images[i:i + batch_size]
            if self.preprocess is not None:
                x = self.preprocess(x)
            f, p = self.model(x, training=False)
            feats.append(keras.ops.convert_to_numpy(f).astype(np.float64))
            probs.append(keras.ops.convert_to_numpy(p).astype(np.float64))
            bar.update(min(i + batch_size, len(images)))
        return np.concatenate(feats), np.concatenate(probs)


def weights_digest(model) -> str:
    """Which network this is: the first 12 hex digits of SHA-256 over its weights (dtype, shape and
    values, in order). Two classifiers trained alike on other machines can differ (other kernels round
    otherwise), and scores through them are not comparable; their test accuracy may not tell them apart."""
    return digest(keras.ops.convert_to_numpy(weight) for weight in model.weights)[:12]


def _two_outputs(model):
    return keras.Model(model.inputs[0], [model.get_layer(FEATURES_LAYER).output, model.outputs[0]])


def classifier_path(arrays) -> str:
    """The cached classifier of the data `arrays` (keras_gan.data.datasets.Arrays), by dataset name and
    fingerprint: one per set of data, so a classifier is never reused for data it was not trained on."""
    return os.path.join(cache_dir(), f"classifier_{arrays.spec.name}_{arrays.fingerprint}.keras")


def train_classifier(arrays, *, epochs: int = CLASSIFIER_EPOCHS, seed: int = 0, log=print) -> tuple[str, float]:
    """Trains the classifier on the training split of `arrays`, saves it in the cache and returns
    (path, test accuracy)."""
    spec, dataset = arrays.spec, arrays.spec.name
    backend.set_random_seed(seed)
    model = build_classifier(spec.image_shape, len(spec.class_names))
    x, x_test = to_unit_range(arrays.x_train), to_unit_range(arrays.x_test)
    steps = epochs * (len(x) // 128 + (len(x) % 128 > 0))
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    log(f"training the {dataset} classifier (the feature network of its metrics) on "
        f"{len(x)} images from {arrays.source}, {epochs} epochs")
    started = time.perf_counter()

    class Progress(keras.callbacks.Callback):  # a line per epoch through `log`, wherever it writes
        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            log(f"classifier epoch {epoch + 1}/{epochs}: loss {logs.get('loss', float('nan')):.4f}, training "
                f"accuracy {logs.get('accuracy', float('nan')):.4f} ({time.perf_counter() - started:.0f} s)")

    model.fit(x, arrays.y_train, batch_size=128, epochs=epochs, verbose=0, callbacks=[Progress()])
    _, accuracy = model.evaluate(x_test, arrays.y_test, batch_size=BATCH, verbose=0)
    path = classifier_path(arrays)
    save_network(model, path)
    write_text(path + ".json", json.dumps({"dataset": dataset, "data_fingerprint": arrays.fingerprint,
                                           "test_accuracy": float(accuracy), "epochs": epochs, "seed": seed,
                                           "source": arrays.source}, indent=2))
    log(f"test accuracy {accuracy:.4f}; saved {path}")
    return path, float(accuracy)


def classifier(arrays, *, log=print) -> FeatureNetwork:
    """The classifier of the data `arrays` (keras_gan.data.datasets.Arrays) from the cache, trained
    first if the cache has none for this data."""
    dataset, path = arrays.spec.name, classifier_path(arrays)
    if len(arrays.spec.class_names) < 2:
        raise ConfigError(f"the default feature network is a classifier trained on the dataset's classes, and "
                          f"{arrays.source} has one class (no class subfolders). Give the FID Inception's weights "
                          "(--fid_weights=PATH, or download), which fit images of any size, or put the images in "
                          "class subfolders.")
    if not os.path.isfile(path):
        log(f"no classifier for this {dataset} data ({arrays.source}, fingerprint {arrays.fingerprint}) in "
            f"{cache_dir()}: training one (once)")
        train_classifier(arrays, log=log)
    what_to_do = f"delete {path} and its .json, and the classifier is trained again on first use"
    model = load_network(path, what_to_do)
    try:
        with open(path + ".json") as f:
            info = json.load(f)
        accuracy = float(info["test_accuracy"])
        trained_on = info["data_fingerprint"]
    except Exception as e:  # a damaged sidecar: json raises several types, a missing key another
        raise ModelFileError(f"the cached classifier's {path}.json is damaged ({reason(e)}); {what_to_do}.") from None
    if trained_on != arrays.fingerprint:
        raise ModelFileError(f"the cached classifier {path} was trained on other data ({trained_on}) than "
                             f"{arrays.source} ({arrays.fingerprint}); delete it and its .json.")
    return FeatureNetwork("classifier", _two_outputs(model), arrays.spec.image_shape,
                          f"{dataset} classifier (test accuracy {accuracy:.4f}, weights {weights_digest(model)}), "
                          "128-d features")


def content_network(arrays, *, log=print, load: bool = True):
    """SRGAN's content features when no VGG19 is given: the cached classifier's last convolutional
    activations before its last pooling (14x14x64 on 28x28 images), as the paper's VGG19 phi_5,4 is
    VGG's last convolution before its last pooling. Images in [-1, 1]; trained first if not cached.
    With `load=False`, the architecture alone, for a resumed run to restore from its checkpoint."""
    if load:
        model = classifier(arrays, log=log).model  # the cached one, or one trained now
    else:
        model = build_classifier(arrays.spec.image_shape, len(arrays.spec.class_names))
    pools = [i for i, layer in enumerate(model.layers) if isinstance(layer, layers.MaxPooling2D)]
    return keras.Model(model.inputs[0], model.layers[pools[-1] - 1].output, name="content_features")


VGG_LAYER = "block5_conv4"  # the paper's phi_5,4: VGG19's last convolution before its last pooling
VGG_SCALE = 1 / 12.75       # the paper rescales VGG's features so that their loss is on the MSE's scale
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)  # Caffe preprocessing, as keras.applications.vgg19's


def vgg_content_network(weights_path: str, image_shape, *, load: bool = True) -> keras.Model:
    """SRGAN's content features as in the paper: VGG19's block5_conv4 activations times 1/12.75. Images
    in [-1, 1] are made VGG's inputs: resized (bilinear) to at least 32x32, VGG's smallest, mapped to
    0..255, grey repeated to three channels, then Caffe-preprocessed (BGR, ImageNet mean subtracted),
    in a fixed 1x1 convolution. `weights_path`: Keras's VGG19 ImageNet weights without the top
    (vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5) or a .weights.h5 of that network. With
    `load=False`, the architecture alone, for a resumed run to restore from its checkpoint."""
    h, w, channels = image_shape
    if channels not in (1, 3):
        raise ConfigError(f"--vgg_weights needs grey or RGB images; these have {channels} channels.")
    size = (max(32, h), max(32, w))
    kernel = np.zeros((1, 1, channels, 3), np.float32)
    for out, source in enumerate((2, 1, 0)):  # BGR from RGB, or each from the one grey channel
        kernel[0, 0, source if channels == 3 else 0, out] = 127.5
    bias = 127.5 - np.asarray(IMAGENET_BGR_MEAN, np.float32)
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(*size, 3))
    if load:
        if not os.path.isfile(weights_path):
            raise ConfigError(f"--vgg_weights={weights_path}: file not found. It should hold Keras's VGG19 ImageNet "
                              "weights without the top (vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5).")
        try:
            vgg.load_weights(weights_path)
        except Exception as e:  # Keras and h5py raise many types for a file that is not these weights
            raise ModelFileError(f"cannot load VGG19 weights from {weights_path} ({reason(e)}); pass Keras's VGG19 "
                                 "weights without the top (vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5).") from None
    x = inputs = keras.Input(shape=tuple(image_shape), name="image")
    if (h, w) != size:
        x = layers.Resizing(*size, interpolation="bilinear", name="to_vgg_size")(x)
    x = layers.Conv2D(3, 1, trainable=False, name="caffe_preprocessing", kernel_initializer=keras.initializers.Constant(
        kernel), bias_initializer=keras.initializers.Constant(bias))(x)
    x = keras.Model(vgg.inputs[0], vgg.get_layer(VGG_LAYER).output, name="vgg19_" + VGG_LAYER)(x)
    return keras.Model(inputs, layers.Rescaling(VGG_SCALE, name="paper_scale")(x), name="vgg19_content")


def reference_inception(weights_path: str, image_shape) -> FeatureNetwork:
    """The FID Inception with pytorch-fid's weights (a file, or "download"): 2048-d pool features and the
    softmax of its 1008 logits, images prepared as the reference code prepares them."""
    model = fid_inception.network(weights_path)
    features, logits = model.outputs
    two = keras.Model(model.inputs[0], [features, layers.Softmax()(logits)])
    name = "downloaded" if weights_path == "download" else os.path.basename(weights_path)
    return FeatureNetwork("inception", two, tuple(image_shape),
                          f"FID Inception of 2015-12-05 ({name}, weights {weights_digest(model)}), 2048-d pool "
                          "features, 8-bit images resized bilinearly to 299x299", fid_inception.prepare)


def inception(weights_path: str, image_shape) -> FeatureNetwork:
    """InceptionV3 with the user's weights: 2048-d pool features and 1000 class probabilities."""
    if not os.path.isfile(weights_path):
        raise ConfigError(f"--inception_weights={weights_path}: file not found. It should hold Keras "
                          "InceptionV3 weights with the classification top (inception_v3 .h5).")
    try:
        net = keras.applications.InceptionV3(weights=weights_path, include_top=True)
    except Exception as e:
        raise ModelFileError(f"cannot load InceptionV3 weights from {weights_path}: "
                             f"{str(e).splitlines()[0][:200]}") from e
    model = keras.Model(net.inputs[0], [net.get_layer("avg_pool").output, net.outputs[0]])

    def preprocess(x):  # [-1, 1] already, which is InceptionV3's own input range
        x = keras.ops.image.resize(x, (299, 299), interpolation="bilinear")
        return keras.ops.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x

    return FeatureNetwork("inception", model, tuple(image_shape),
                          f"InceptionV3 ({os.path.basename(weights_path)}, weights {weights_digest(net)}), "
                          "2048-d pool features",
                          preprocess)
