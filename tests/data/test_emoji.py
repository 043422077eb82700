"""The offline colour demo's folder (keras_gan/data/emoji.py): every emoji the installed Noto Color
Emoji font draws, as 128x128 PNGs on white in class subfolders by Unicode block, read back as a
folder dataset. `make data` installs the font (fonts-noto-color-emoji)."""

import os

import numpy as np
from keras_gan.data import datasets as data
from keras_gan.data import emoji
from keras_gan.experiments.configs import Experiment
from PIL import Image


def test_the_font_becomes_a_folder_of_classes(tmp_path):
    root = tmp_path / "emoji"
    written = emoji.build(str(root), log=lambda *a: None)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    assert written == len(files) > 1000
    assert {f.split("/")[0] for f in files} == {name for name, _, _ in emoji.BLOCKS} | {emoji.OTHER}
    smile = np.asarray(Image.open(root / "faces" / "u1F600.png"))  # GRINNING FACE
    assert smile.shape == (128, 128, 3) and tuple(smile[0, 0]) == (255, 255, 255)
    yellow = (smile[..., 0] > 200) & (smile[..., 1] > 150) & (smile[..., 2] < 100)
    assert yellow.mean() > 0.3  # a yellow face fills much of the square
    # a folder already written is kept as it is
    os.remove(root / "faces" / "u1F600.png")
    assert emoji.build(str(root), log=lambda *a: None) == written and not (root / "faces" / "u1F600.png").exists()
    arrays = data.load_arrays(f"folder:{root}", image_size=32, log=lambda *a: None)
    assert arrays.spec.class_names == tuple(sorted({f.split("/")[0] for f in files}))
    assert len(arrays.x_train) + len(arrays.x_test) == written - 1


def test_the_emoji_experiment_trains_on_the_folder_it_makes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GAN_CACHE", str(tmp_path / "cache"))
    path = os.path.join(os.path.dirname(__file__), "..", "..", "experiments", "configs", "15_dcgan_emoji.json")
    config = Experiment.from_file(path).train_config(0, str(tmp_path / "results"))
    assert config.dataset == "folder" and config.data_dir == str(tmp_path / "cache" / "emoji")
    assert config.spec.image_shape == (64, 64, 3) and len(config.classes) == 6
