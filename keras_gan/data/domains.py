"""The image-to-image tasks' data, made from a dataset the package already reads (datasets.py).

* Edges <-> images, CycleGAN's demo (the classic edges2shoes task, offline): the dataset's images of
  `DOMAIN_CLASSES` (Fashion-MNIST's three kinds of footwear: sandal, sneaker, ankle boot; every
  class of other datasets) are split, with a fixed seed, into two disjoint halves. Domain A is the
  edge map (`transforms.edges`, a fixed filter) of the first half, domain B the second half itself,
  so the two training sets are unpaired. The test split's images give pairs with ground truth:
  A = edges(x), B = x.
* Low -> high resolution, SRGAN's demo: the dataset's images are the high-resolution ones, and
  `transforms.downsample` (a box filter, `scale` x `scale` blocks averaged) makes the
  low-resolution inputs.
"""

import dataclasses

import numpy as np

from keras_gan.data.transforms import edges
from keras_gan.errors import ConfigError

DOMAIN_CLASSES = {"fashion_mnist": (5, 7, 9)}  # sandal, sneaker, ankle boot
SPLIT_SEED = 0x5E6  # the halves are the same for every run of a dataset, whatever its --seed


@dataclasses.dataclass(frozen=True)
class Domains:
    """uint8 images of the two domains: unpaired training halves, and paired test images."""

    a_train: np.ndarray   # edge maps of the first half
    b_train: np.ndarray   # the second half's images
    a_test: np.ndarray    # edge maps of the test images
    b_test: np.ndarray    # the test images: the ground truth of a_test's translations

    def describe(self) -> str:
        return (f"{len(self.a_train)} edge maps (A) and {len(self.b_train)} other images (B), unpaired; "
                f"{len(self.a_test)} test pairs")


def edges_and_images(arrays) -> Domains:
    """The edges <-> images task of `arrays` (keras_gan.data.Arrays)."""
    dataset = arrays.spec.name
    classes = DOMAIN_CLASSES.get(dataset)

    def pick(x, y):
        return x if classes is None else x[np.isin(y, classes)]

    train, test = pick(arrays.x_train, arrays.y_train), pick(arrays.x_test, arrays.y_test)
    if len(train) < 2 or len(test) < 1:
        raise ConfigError(f"{dataset} has {len(train)} training and {len(test)} test images of classes "
                          f"{classes}: too few for two domains.")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(train))
    half = len(train) // 2
    return Domains(a_train=edges(train[order[:half]]), b_train=train[order[half:2 * half]],
                   a_test=edges(test), b_test=test)
