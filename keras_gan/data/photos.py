"""`--dataset=photos`: natural images offline, as 32x32 RGB patches of the photographs that
scikit-image's wheel ships (its skimage/data folder), read with Pillow; scikit-image itself is not
imported, only its files are (`pip install scikit-image`, or `pip install -e '.[photos]'`).

Each photograph is a class. Photographs wider or taller than 512 pixels are first shrunk to 512
(Lanczos). The left three quarters of each give the training patches (every 8 pixels, overlapping),
the right quarter the test patches (every 32 pixels, side by side), so no test pixel is seen in
training. It is SRGAN's natural-image demo (x4: 8x8 -> 32x32), the kind of image the paper's
numbers are about; the other members train on it too.
"""

import importlib.util
import os

import numpy as np
from PIL import Image

from keras_gan.errors import DataError, reason

PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "ihc.png")
NAMES = tuple(p.split(".")[0] for p in PHOTOS)
PATCH, TRAIN_STRIDE, TEST_STRIDE, LARGEST = 32, 8, 32, 512
SOURCE = "scikit-image's photographs"


def folder() -> str | None:
    """scikit-image's data folder, where its wheel puts the photographs; None if it is not installed."""
    spec = importlib.util.find_spec("skimage")
    return os.path.join(os.path.dirname(spec.origin), "data") if spec and spec.origin else None


def read_photo(path: str) -> np.ndarray:
    """A photograph as uint8 RGB (H, W, 3), shrunk to at most LARGEST pixels a side."""
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if max(image.size) > LARGEST:
                ratio = LARGEST / max(image.size)
                image = image.resize((round(image.width * ratio), round(image.height * ratio)), Image.LANCZOS)
            return np.asarray(image, np.uint8)
    except Exception as e:  # Pillow raises many types for a damaged image
        raise DataError(f"cannot read the photograph {path} ({reason(e)}); reinstall scikit-image "
                        "(pip install --force-reinstall scikit-image).") from None


def patches(image: np.ndarray, stride: int) -> np.ndarray:
    """Every PATCH x PATCH square of `image` whose corner is on a `stride` grid, row by row."""
    h, w, _ = image.shape
    return np.stack([image[r:r + PATCH, c:c + PATCH] for r in range(0, h - PATCH + 1, stride)
                     for c in range(0, w - PATCH + 1, stride)])


def build() -> dict[str, np.ndarray]:
    """The photos dataset: x_train, y_train, x_test, y_test (labels: which photograph)."""
    where = folder()
    if where is None:
        raise DataError("--dataset=photos is made of the photographs scikit-image ships, and scikit-image is not "
                        "installed: pip install scikit-image (or pip install -e '.[photos]').")
    out = {"x_train": [], "y_train": [], "x_test": [], "y_test": []}
    for label, name in enumerate(PHOTOS):
        path = os.path.join(where, name)
        if not os.path.isfile(path):
            raise DataError(f"scikit-image's {path} is missing; reinstall scikit-image "
                            "(pip install --force-reinstall scikit-image).")
        image = read_photo(path)
        cut = image.shape[1] * 3 // 4
        for split, part, stride in (("train", image[:, :cut], TRAIN_STRIDE), ("test", image[:, cut:], TEST_STRIDE)):
            found = patches(part, stride)
            out["x_" + split].append(found)
            out["y_" + split].append(np.full(len(found), label, np.int64))
    return {k: np.concatenate(v) for k, v in out.items()}
