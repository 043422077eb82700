"""SRGAN's content loss on VGG19 features (`--vgg_weights=PATH`), as in the paper: the network against
Keras's own VGG19 preprocessing, both weight file formats, a run that trains with it and resumes
without the file, and the errors."""

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src.legacy.saving import legacy_h5_format
from keras_gan.errors import ConfigError, ModelFileError
from keras_gan.evaluation import features
from keras_gan.runs import checkpoint
from keras_gan.runs.config import TrainConfig
from keras_gan.training import loop

from tests.training.test_image_members import StopInEpoch2, quiet


@pytest.fixture(scope="module")
def vgg(tmp_path_factory):
    """Random VGG19 weights (ImageNet's cannot be downloaded here) in Keras's two file formats: the
    .weights.h5 of Keras 3 and the legacy HDF5 of the published vgg19_..._notop.h5."""
    keras.utils.set_random_seed(3)
    net = keras.applications.VGG19(include_top=False, weights=None, input_shape=(32, 32, 3))
    folder = tmp_path_factory.mktemp("vgg")
    native, legacy = str(folder / "vgg19.weights.h5"), str(folder / "vgg19_notop.h5")
    net.save_weights(native)
    with h5py.File(legacy, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, net)
    return net, native, legacy


def test_features_are_vgg19_block5_conv4_of_caffe_preprocessed_images(vgg):
    net, native, legacy = vgg
    block5 = keras.Model(net.inputs[0], net.get_layer("block5_conv4").output)
    rng = np.random.default_rng(0)
    grey = rng.uniform(-1, 1, (3, 28, 28, 1)).astype(np.float32)
    # what the paper feeds VGG: 0..255 RGB, at least 32x32, through keras.applications.vgg19's preprocessing
    rgb = tf.image.resize(np.repeat((grey + 1) * 127.5, 3, axis=-1), (32, 32), method="bilinear").numpy()
    expected = np.asarray(block5(keras.applications.vgg19.preprocess_input(rgb))) / 12.75
    for path in (native, legacy):
        content = features.vgg_content_network(path, (28, 28, 1))
        out = np.asarray(content(grey))
        assert out.shape == (3, 2, 2, 512)
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3 * np.abs(expected).max())
    colour = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)  # RGB: channels reversed, no resizing
    expected = np.asarray(block5(keras.applications.vgg19.preprocess_input((colour + 1) * 127.5))) / 12.75
    out = np.asarray(features.vgg_content_network(native, (32, 32, 3))(colour))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3 * np.abs(expected).max())


def test_bad_weight_files_get_one_line(vgg, tmp_path):
    with pytest.raises(ConfigError, match="--vgg_weights=.*nope.h5: file not found"):
        features.vgg_content_network(str(tmp_path / "nope.h5"), (28, 28, 1))
    bad = tmp_path / "bad.h5"
    bad.write_text("not weights")
    with pytest.raises(ModelFileError, match="cannot load VGG19 weights from .*bad.h5"):
        features.vgg_content_network(str(bad), (28, 28, 1))
    with pytest.raises(ConfigError, match="--vgg_weights is the content loss of --model=srgan; --model=srresnet"):
        TrainConfig(model="srresnet", dataset="mnist", vgg_weights=vgg[1])


def test_srgan_trains_on_vgg_features_and_resumes_without_the_file(vgg, idx_dir, tmp_path):
    weights = tmp_path / "vgg19.weights.h5"
    weights.write_bytes(open(vgg[1], "rb").read())

    def config(out):
        return TrainConfig(model="srgan", dataset="mnist", data_dir=idx_dir, output_dir=str(out), epochs=2,
                           steps_per_epoch=2, sample_rows=2, seed=1, filters=4, blocks=1, batch_size=4,
                           vgg_weights=str(weights))

    reference = loop.fit(config(tmp_path / "a"), log=quiet)
    state = checkpoint.load(str(tmp_path / "a"))[0]
    kernels = [k for k in state if k.startswith("features/")]
    assert len(kernels) == 2 * (16 + 1)  # the preprocessing and VGG19's 16 convolutions to block5_conv4: w and b
    assert np.array_equal(state[kernels[2]], vgg[0].get_layer("block1_conv1").kernel.numpy())
    with pytest.raises(KeyboardInterrupt):
        loop.fit(config(tmp_path / "b"), log=quiet, callbacks=[StopInEpoch2()])
    weights.unlink()  # the checkpoint holds the features
    resumed = loop.fit(config(tmp_path / "b"), resume=True, log=quiet)
    assert all(resumed[k] == reference[k] for k in ("d_loss", "g_loss", "content", "adversarial"))
