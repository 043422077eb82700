"""`--dataset=folder:PATH` (keras_gan/data/folders.py): folders of real image files (crops of the
photographs scikit-image ships, written as PNG, JPEG, BMP and GIF by Pillow) and broken ones, read
as datasets; how each file becomes a training image; the seeded split; bad files skipped and named;
the clear errors; streaming from the files and from a cache file, batch for batch the same as in
memory; and training dcgan_paper at 64x64x3 and cgan on class subfolders end to end."""

import json
import os

import numpy as np
import pytest
from keras_gan import evaluate, train
from keras_gan.data import datasets as data
from keras_gan.data import folders
from keras_gan.data.domains import edges_and_images
from keras_gan.data.pipeline import FilePipeline, Pipeline
from keras_gan.errors import ConfigError, DataError
from keras_gan.runs import folder as run_folder
from keras_gan.runs.config import TrainConfig, read_config
from keras_gan.runs.generator import load_generator
from keras_gan.training import loop
from PIL import Image

from tests.conftest import PHOTO_CLASSES as CLASSES
from tests.conftest import write_photo_folder as real_folder


def broken_files(root):
    """A truncated JPEG, text named .png, an empty file and a link to nothing, in class subfolders."""
    jpeg = (root / "chelsea" / "001.jpg").read_bytes()
    (root / "astronaut" / "truncated.jpg").write_bytes(jpeg[:len(jpeg) // 3])
    (root / "chelsea" / "notes.png").write_text("not an image")
    (root / "coffee" / "empty.jpg").write_bytes(b"")
    os.symlink(root / "nowhere.png", root / "coffee" / "gone.png")


def test_a_folder_of_class_subfolders_is_a_dataset(tmp_path):
    root = real_folder(tmp_path / "photos")
    (tmp_path / "photos" / "loose.png").write_bytes((root / "coffee" / "000.png").read_bytes())
    arrays = data.load_arrays(f"folder:{root}", image_size=32, log=lambda *a: None)
    assert arrays.spec.class_names == CLASSES and arrays.spec.image_shape == (32, 32, 3)
    assert arrays.x_train.dtype == np.uint8 and arrays.x_train.shape[1:] == (32, 32, 3)
    # a tenth held out (7 of 72), the rest trains; every class in both, labels from the subfolders
    assert (len(arrays.x_train), len(arrays.x_test)) == (65, 7)
    assert set(np.unique(arrays.y_train)) == {0, 1, 2}
    assert arrays.skipped == () and any("1 image files at the top" in n for n in arrays.notes)
    assert any("test split: 7 of the files, held out with a fixed seed" in n for n in arrays.notes)
    # the same files make the same split and fingerprint, whatever --seed a run uses
    again = data.load_arrays("folder", str(root), image_size=32, log=lambda *a: None)
    assert again.fingerprint == arrays.fingerprint and np.array_equal(again.x_test, arrays.x_test)
    # another size is other data
    assert data.load_arrays(f"folder:{root}", image_size=16, log=lambda *a: None).fingerprint != arrays.fingerprint


def test_train_and_test_subfolders_are_the_splits(tmp_path):
    real_folder(tmp_path / "split" / "train", per_class=6)
    real_folder(tmp_path / "split" / "test", per_class=2, seed=1)
    arrays = data.load_arrays(f"folder:{tmp_path / 'split'}", image_size=16, log=lambda *a: None)
    assert arrays.spec.class_names == CLASSES
    assert (len(arrays.x_train), len(arrays.x_test)) == (18, 6)
    assert sorted(np.bincount(arrays.y_test)) == [2, 2, 2]


def write(path, array):
    Image.fromarray(np.asarray(array, np.uint8)).save(path)
    return path


def decoded(path, shape):
    return folders.decode(str(path), shape).numpy()


def test_each_file_is_centre_cropped_resized_and_converted(tmp_path):
    # a wide picture: red bands left and right, a green square in the centre -> all green
    wide = np.zeros((20, 40, 3), np.uint8)
    wide[:, :10] = wide[:, 30:] = (255, 0, 0)
    wide[:, 10:30] = (0, 255, 0)
    assert np.array_equal(decoded(write(tmp_path / "wide.png", wide), (10, 10, 3)), np.full((10, 10, 3), (0, 255, 0)))
    # at its own size a square image is unchanged; grey repeats to RGB, RGB becomes grey by luminance
    square = np.random.default_rng(0).integers(0, 256, (12, 12, 3), dtype=np.uint8)
    assert np.array_equal(decoded(write(tmp_path / "sq.png", square), (12, 12, 3)), square)
    grey = square[..., 0]
    assert np.array_equal(decoded(write(tmp_path / "grey.png", grey), (12, 12, 3)), np.repeat(grey[..., None], 3, -1))
    luminance = square.astype(np.float64) @ [0.2989, 0.587, 0.114]
    assert np.abs(decoded(tmp_path / "sq.png", (12, 12, 1))[..., 0] - luminance).max() <= 1
    # a transparent pixel is white, an opaque one keeps its colour, half-transparent is halfway
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[0, 0] = (0, 0, 255, 255)
    rgba[0, 1] = (0, 0, 0, 128)
    out = decoded(write(tmp_path / "alpha.png", rgba), (4, 4, 3))
    assert tuple(out[0, 0]) == (0, 0, 255) and tuple(out[1, 1]) == (255, 255, 255)
    assert np.all(np.abs(out[0, 1].astype(int) - 127) <= 1)
    # a GIF's first frame
    frames = [Image.fromarray(np.full((8, 8, 3), colour, np.uint8)) for colour in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    assert tuple(decoded(tmp_path / "anim.gif", (8, 8, 3))[4, 4]) == (255, 0, 0)
    # shrinking averages (antialiasing): a one-pixel checkerboard becomes its mean grey
    checker = (np.indices((32, 32)).sum(0) % 2 * 255).astype(np.uint8)
    assert np.all(np.abs(decoded(write(tmp_path / "checker.png", checker), (8, 8, 1)).astype(int) - 128) <= 2)


def test_bad_files_are_skipped_counted_and_named(tmp_path, capsys):
    root = real_folder(tmp_path / "photos")
    broken_files(root)
    lines = []
    arrays = data.load_arrays(f"folder:{root}", image_size=16, log=lines.append)
    skipped = dict(arrays.skipped)
    assert sorted(os.path.basename(p) for p in skipped) == ["empty.jpg", "gone.png", "notes.png", "truncated.jpg"]
    assert len(arrays.x_train) + len(arrays.x_test) == 72  # every good file, none of the bad
    reasons = {os.path.basename(p): why for p, why in skipped.items()}
    assert "Unknown image file format" in reasons["notes.png"] and "empty" in reasons["empty.jpg"].lower()
    assert "No such file" in reasons["gone.png"] and "JPEG" in reasons["truncated.jpg"]
    # training names the count in one line and writes every file with its reason to the run folder
    out = tmp_path / "run"
    assert train.main(["train", "--model=vanilla", f"--dataset=folder:{root}", "--image_size=16", "--epochs=1",
                       "--batch_size=16", "--steps_per_epoch=1", "--notensorboard", f"--output_dir={out}"]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("skipped")]
    assert len(said) == 1 and said[0].startswith("skipped 4 files") and run_folder.SKIPPED in said[0]
    written = (out / run_folder.SKIPPED).read_text().splitlines()
    assert sorted(line.split("\t")[0] for line in written) == sorted(skipped)


@pytest.mark.parametrize("make, message", [
    (lambda root: None, "holds no image files"),
    (lambda root: write(root / "one.png", np.zeros((8, 8, 3))), "holds one image file"),
    (lambda root: [(root / f"{i}.png").write_text("x") for i in range(3)], "could be read"),
])
def test_an_unusable_folder_is_one_line_and_status_2(tmp_path, capsys, make, message):
    root = tmp_path / "data"
    root.mkdir()
    make(root)
    status = train.main(["train", f"--dataset=folder:{root}", f"--output_dir={tmp_path / 'run'}", "--epochs=1"])
    err = capsys.readouterr().err
    assert status == 2 and message in err and "Traceback" not in err


def test_a_folder_that_is_not_there_and_sizes_a_dataset_cannot_take(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        TrainConfig(dataset=f"folder:{tmp_path / 'missing'}")
    with pytest.raises(DataError, match="resize the images of a folder dataset"):
        TrainConfig(dataset="fashion_mnist", image_size=64)
    with pytest.raises(ConfigError, match="doubles 4x4 images"):
        TrainConfig(model="dcgan_paper", dataset="fashion_mnist")
    write(tmp_path / "a.png", np.zeros((8, 8, 3)))
    with pytest.raises(ConfigError, match="one class"):
        TrainConfig(model="cgan", dataset=f"folder:{tmp_path}")
    with pytest.raises(ConfigError, match="--channels must be"):
        TrainConfig(dataset=f"folder:{tmp_path}", channels=2)


def test_a_folder_config_records_the_folder_size_and_classes(tmp_path):
    root = real_folder(tmp_path / "photos", per_class=2)
    config = TrainConfig(model="cgan", dataset=f"folder:{root}", image_size=32)
    assert (config.dataset, config.data_dir, config.classes) == ("folder", str(root), list(CLASSES))
    assert config.spec.image_shape == (32, 32, 3) and config.run_dir == os.path.join("runs", "cgan_photos")
    # read back without the folder: what the run recorded is enough to sample from its generator
    os.rename(root, tmp_path / "moved")
    again = TrainConfig.from_json(config.to_json())
    assert again.spec == config.spec


def batches(pipeline, epoch, batch_size=8):
    return [[np.asarray(t) for t in (b if isinstance(b, tuple) else (b,))]
            for b in pipeline.epoch(batch_size=batch_size, seed=3, epoch=epoch)]


def test_streaming_serves_the_batches_memory_serves(tmp_path):
    root = real_folder(tmp_path / "photos")
    broken_files(root)
    quiet = dict(image_size=16, log=lambda *a: None)
    in_memory = data.load_arrays(f"folder:{root}", **quiet)
    streamed = data.load_arrays(f"folder:{root}", memory_mb=0, **quiet)
    cache = tmp_path / "cache" / "photos.bin"
    cached = data.load_arrays(f"folder:{root}", memory_mb=0, cache=str(cache), **quiet)
    assert in_memory.stream is None and streamed.stream is not None and cached.stream.cache == str(cache)
    n = len(in_memory.x_train)
    assert streamed.num_train == cached.num_train == n and n + len(in_memory.x_test) == 72
    assert streamed.fingerprint == cached.fingerprint == in_memory.fingerprint
    assert dict(streamed.skipped) == dict(in_memory.skipped) == dict(cached.skipped)
    # the images kept in memory for the evaluation (here all of them, under the 10,000 limit) are the same
    for arrays in (streamed, cached):
        np.testing.assert_array_equal(arrays.x_train, in_memory.x_train)
        np.testing.assert_array_equal(arrays.y_train, in_memory.y_train)
        np.testing.assert_array_equal(arrays.x_test, in_memory.x_test)
    assert os.path.getsize(cache) == n * 16 * 16 * 3
    for flatten in (True, False):
        memory = Pipeline(in_memory.x_train, in_memory.y_train, flatten=flatten)
        for arrays in (streamed, cached):
            files = FilePipeline(arrays.stream, labels=True, flatten=flatten)
            for epoch in (1, 2):
                got, want = batches(files, epoch), batches(memory, epoch)
                assert len(got) == len(want) == n // 8
                for (x, y), (x0, y0) in zip(got, want):
                    np.testing.assert_array_equal(x, x0)
                    np.testing.assert_array_equal(y, y0)
    # the cache is reused while the folder is the same, and written again when a file changes
    lines = []
    data.load_arrays(f"folder:{root}", memory_mb=0, cache=str(cache), image_size=16, log=lines.append)
    assert any("from the cache" in line for line in lines)
    write(root / "coffee" / "000.png", np.zeros((50, 50, 3)))
    lines = []
    data.load_arrays(f"folder:{root}", memory_mb=0, cache=str(cache), image_size=16, log=lines.append)
    assert any("into the cache" in line for line in lines)


def test_dcgan_paper_trains_at_64x64x3_on_a_folder_and_resumes(tmp_path):
    root = real_folder(tmp_path / "photos", per_class=12)
    out = tmp_path / "run"
    args = ["train", "--model=dcgan_paper", f"--dataset=folder:{root}", "--image_size=64", "--dcgan_filters=4",
            "--batch_size=8", "--steps_per_epoch=2", "--notensorboard", f"--output_dir={out}"]
    assert train.main([*args, "--epochs=1"]) == 0
    assert train.main([*args, "--epochs=2", "--resume"]) == 0
    config = read_config(str(out))
    assert config.spec.image_shape == (64, 64, 3) and config.classes == list(CLASSES)
    generator = load_generator(str(out / run_folder.GENERATOR))
    images = generator.sample(3, seed=0)
    assert images.shape == (3, 64, 64, 3) and np.abs(images).max() <= 1
    assert len(loop.run_folder.read_csv(str(out / run_folder.EPOCHS), ("epoch",))) == 2


def test_cgan_trains_on_class_subfolders_and_samples_each_class(tmp_path, monkeypatch):
    root = real_folder(tmp_path / "photos", per_class=12)
    out = tmp_path / "run"
    history = loop.fit(TrainConfig(model="cgan", dataset=f"folder:{root}", image_size=16, epochs=1, batch_size=8,
                                   steps_per_epoch=3, tensorboard=False, output_dir=str(out)), log=lambda *a: None)
    assert len(history["d_loss"]) == 3
    generator = load_generator(str(out / run_folder.GENERATOR))
    assert generator.num_classes == 3
    images = generator.sample(6, seed=0, labels=np.array([0, 1, 2, 0, 1, 2]))
    assert images.shape == (6, 16, 16, 3)
    # evaluate reads the run's folder, size and classes from its config.json: a classifier trained on
    # the folder's classes, the copy test against the folder's training split
    monkeypatch.setenv("KERAS_GAN_CACHE", str(tmp_path / "cache"))
    assert evaluate.main(["evaluate", f"--generator={out / run_folder.GENERATOR}", "--num_samples=20"]) == 0
    scores = json.loads((out / run_folder.METRICS).read_text())
    assert scores["dataset"] == "folder" and "folder classifier" in scores["feature_network"]
    assert np.isfinite(scores["fid"]) and "copy_z" in scores and scores["real_samples"] == 20


def test_a_folder_of_one_class_has_no_classifier_to_score_with(tmp_path, capsys):
    root = tmp_path / "pictures"
    real_folder(tmp_path / "photos", per_class=4)
    os.rename(tmp_path / "photos" / "chelsea", root)
    status = evaluate.main(["evaluate", f"--dataset=folder:{root}", "--test_split", "--image_size=16"])
    err = capsys.readouterr().err
    assert status == 2 and "one class" in err and "--fid_weights" in err


def test_the_image_to_image_members_train_on_a_folder_in_memory(tmp_path):
    root = real_folder(tmp_path / "photos", per_class=8)
    config = TrainConfig(model="srresnet", dataset=f"folder:{root}", image_size=16, epochs=1, batch_size=4,
                         steps_per_epoch=1, tensorboard=False, filters=4, blocks=1, output_dir=str(tmp_path / "run"))
    history = loop.fit(config, log=lambda *a: None)
    assert len(history["epochs"]) == 1
    # CycleGAN's two domains come from every class of a folder: edge maps of one half, images of the other
    domains = edges_and_images(data.load_arrays(f"folder:{root}", image_size=16, log=lambda *a: None))
    assert len(domains.a_train) == len(domains.b_train) > 0 and domains.a_test.shape[1:] == (16, 16, 3)
    # they keep their images in memory: a folder too large for --data_memory_mb is one clear error
    streaming = TrainConfig(**{**config.values(), "data_memory_mb": 0, "output_dir": str(tmp_path / "run2")})
    with pytest.raises(ConfigError, match="raise it"):
        loop.fit(streaming, log=lambda *a: None)
