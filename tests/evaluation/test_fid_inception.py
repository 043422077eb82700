"""The FID Inception in Keras against pytorch-fid's own network, both with the same random weights, the
way the references test their ports (the standard weights cannot be downloaded here); the PyTorch
weights file read without PyTorch, in both of torch.save's layouts; the FID of equal features equal
to clean-fid's arithmetic."""

import json

import numpy as np
import pytest

import sys  # noqa: E402
import types  # noqa: E402

import torch  # noqa: E402  the test extra installs it, with pytorch-fid and torchvision

try:
    import torchvision
except RuntimeError:  # PyPI's torchvision is built against CUDA torch: its compiled operators (nms...) do
    # not load beside the CPU build, and only their registration fails; its models are plain Python.
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    for name in [m for m in sys.modules if m.startswith("torchvision")]:
        if name != "torchvision._meta_registrations":
            del sys.modules[name]
    import torchvision
from pytorch_fid import inception as pfi  # noqa: E402
from keras_gan.errors import ConfigError, ModelFileError  # noqa: E402
from keras_gan.evaluation import fid_inception  # noqa: E402
from keras_gan.io.torch_files import read_state_dict  # noqa: E402


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """pytorch-fid's FID Inception with random weights (its download replaced by them), and its state
    dict saved as the standard file is, in torch.save's zip layout."""
    mp = pytest.MonkeyPatch()
    mp.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: "random")
    real_load = torchvision.models.Inception3.load_state_dict
    mp.setattr(torchvision.models.Inception3, "load_state_dict",
               lambda self, state, *a, **k: None if isinstance(state, str) else real_load(self, state, *a, **k))
    inception = pfi.fid_inception_v3()  # its own construction: FID blocks, 1008 logits
    mp.setattr(pfi, "fid_inception_v3", lambda: inception)
    wrapper = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
    mp.undo()
    torch.manual_seed(0)
    with torch.no_grad():  # BatchNorm statistics and scales of a plausible size keep activations finite
        for name, value in inception.state_dict().items():
            if name.endswith("running_var") or (name.endswith("bn.weight")):
                value.uniform_(0.5, 1.5)
            elif name.endswith("running_mean") or name.endswith("bn.bias"):
                value.uniform_(-0.2, 0.2)
    inception.eval()
    path = tmp_path_factory.mktemp("fid") / "pt_inception.pth"
    torch.save(inception.state_dict(), path)
    return {"inception": inception, "wrapper": wrapper, "path": str(path)}


def test_the_features_and_logits_are_pytorch_fids(reference):
    rng = np.random.default_rng(0)
    images = (rng.integers(0, 256, (3, 28, 28, 3)) / 127.5 - 1).astype(np.float32)  # 8-bit already
    model = fid_inception.network(reference["path"])
    features, logits = (np.asarray(t) for t in model(fid_inception.prepare(images), training=False))
    with torch.no_grad():  # pytorch-fid reads PNGs as [0, 1] and resizes and scales inside its network
        x = torch.from_numpy(((images + 1) / 2).transpose(0, 3, 1, 2).copy())
        expected = reference["wrapper"](x)[0].flatten(1)
        expected_logits = reference["inception"].fc(expected)
    scale = float(expected.abs().max())
    assert features.shape == (3, 2048) and scale > 1e-3
    np.testing.assert_allclose(features, expected.numpy(), atol=2e-4 * scale, rtol=1e-3)
    np.testing.assert_allclose(logits, expected_logits.numpy(), atol=2e-4 * float(expected_logits.abs().max()),
                               rtol=1e-3)


def test_grey_images_are_quantized_and_repeated_to_three_channels():
    grey = np.random.default_rng(1).uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32)
    x = np.asarray(fid_inception.prepare(grey))
    assert x.shape == (2, 299, 299, 3)
    np.testing.assert_array_equal(x[..., 0], x[..., 2])
    small = np.asarray(fid_inception.prepare(grey[:, :1, :1]))  # one pixel, spread over 299x299
    levels = (small[0, 0, 0, 0] + 1) / 2 * 255
    assert levels == pytest.approx(round(levels), abs=1e-4)  # an 8-bit value


@pytest.mark.parametrize("legacy", [False, True])
def test_a_state_dict_is_read_without_pytorch_in_both_layouts(tmp_path, legacy):
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.BatchNorm2d(4),
                                 torch.nn.Linear(5, 2))
    state = module.state_dict()
    state["view"] = torch.arange(12.0).reshape(3, 4).t()  # a strided view of a shared storage
    torch.save(state, tmp_path / "w.pth", _use_new_zipfile_serialization=not legacy)
    got = read_state_dict(str(tmp_path / "w.pth"))
    assert list(got) == list(state)
    for name, value in state.items():
        np.testing.assert_array_equal(got[name], value.numpy())


def test_a_file_that_would_run_code_or_holds_other_weights_is_refused(tmp_path, reference):
    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    torch.save({"x": Evil()}, tmp_path / "evil.pth")
    with pytest.raises(ModelFileError, match="is not a PyTorch weights file .*not part of a weights file"):
        fid_inception.network(str(tmp_path / "evil.pth"))
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "other.pth")
    with pytest.raises(ModelFileError, match="does not hold the FID Inception's weights"):
        fid_inception.network(str(tmp_path / "other.pth"))


def test_the_frechet_arithmetic_is_clean_fids():
    from cleanfid.fid import frechet_distance as clean_fid_distance
    from keras_gan.metrics.frechet import frechet_distance, statistics

    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, (300, 64)), rng.normal(0.3, 1.2, (250, 64)) @ rng.normal(0, 0.3, (64, 64))
    ours = frechet_distance(*statistics(a), *statistics(b))
    assert ours == pytest.approx(clean_fid_distance(*statistics(a), *statistics(b)), rel=1e-6)


def test_evaluate_through_the_fid_inception_with_reference_statistics(reference, idx_dir, tmp_path, capsys,
                                                                     monkeypatch):
    from keras_gan import evaluate
    from keras_gan.evaluation import features

    common = ["evaluate", "--test_split", "--dataset=mnist", f"--data_dir={idx_dir}", "--num_samples=10",
              f"--fid_weights={reference['path']}"]
    stats = tmp_path / "mnist_stats.npz"
    calls = []
    real_call = features.FeatureNetwork.__call__
    monkeypatch.setattr(features.FeatureNetwork, "__call__",
                        lambda self, images, **k: calls.append(len(images)) or real_call(self, images, **k))
    assert evaluate.main(common + ["--metrics=fid,kid", f"--save_real_stats={stats}",
                                   f"--out={tmp_path / 'direct.json'}"]) == 0
    assert calls == [10, 10]  # the real images' features serve both the statistics and the scores
    direct = json.loads((tmp_path / "direct.json").read_text())
    assert direct["feature_network"].startswith("FID Inception of 2015-12-05 (pt_inception.pth, weights ")
    with np.load(stats) as f:
        assert f["mu"].shape == (2048,) and f["sigma"].shape == (2048, 2048)
    # The saved statistics give the same FID as the images they came from.
    assert evaluate.main(common + [f"--real_stats={stats}", f"--out={tmp_path / 'stats.json'}"]) == 0
    against = json.loads((tmp_path / "stats.json").read_text())
    assert against["fid"] == pytest.approx(direct["fid"], rel=1e-9) and "kid" not in against
    # Statistics of another network, and other metrics with statistics, are one-line errors.
    capsys.readouterr()
    np.savez(tmp_path / "small.npz", mu=np.zeros(128), sigma=np.eye(128))
    assert evaluate.main(common + [f"--real_stats={tmp_path / 'small.npz'}"]) == 2
    assert "holds mu (128,) and sigma (128, 128); this feature network needs finite (2048,)" in capsys.readouterr().err
    assert evaluate.main(common + [f"--real_stats={stats}", "--metrics=fid,kid"]) == 2
    assert "from which FID alone is computed" in capsys.readouterr().err


def test_the_weights_are_downloaded_once_and_checked(tmp_path, monkeypatch):
    import keras

    def no_network(*a, **k):
        raise OSError("no route to host")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    with pytest.raises(ConfigError, match="cannot download the FID Inception's weights from https://github.com/"
                                           "mseitzer/pytorch-fid/.*no route to host.*--fid_weights=PATH"):
        fid_inception.network("download")
    wrong = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    wrong.write_bytes(b"not the weights")
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: str(wrong))
    with pytest.raises(ModelFileError, match="has SHA-256 [0-9a-f]{12}..., not 6726825d...: removed"):
        fid_inception.network("download")
    assert not wrong.exists()
    with pytest.raises(ConfigError, match="--fid_weights=nowhere.pth: file not found"):
        fid_inception.network("nowhere.pth")
