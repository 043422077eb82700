"""Metrics of generated images: small pure functions over features or class probabilities.

Each takes NumPy arrays (features of real and generated images, from any feature network, or a
classifier's class probabilities) and returns plain floats, so that the numbers can be checked
against independent computations and reused for another tool's samples. Each module registers its
metrics in the registry (keras_gan/metrics/registry.py), in the order below, which is the order of
every table: importing a module is its registration.
"""

from keras_gan.metrics import registry
from keras_gan.metrics.checks import check_finite, finite_pair
from keras_gan.metrics.frechet import fid, frechet_distance
from keras_gan.metrics.mmd import kid
from keras_gan.metrics.score import inception_score
from keras_gan.metrics.manifold import density_coverage, precision_recall
from keras_gan.metrics.likeness import likeness_score
from keras_gan.metrics.modes import conditional_accuracy, mode_coverage
from keras_gan.metrics.cid import cid_index

__all__ = ["registry", "check_finite", "finite_pair", "fid", "frechet_distance", "inception_score", "kid",
           "likeness_score", "density_coverage", "precision_recall", "mode_coverage", "conditional_accuracy",
           "cid_index"]
