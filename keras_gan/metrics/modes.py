"""Mode coverage from a classifier's predictions on generated images (seeds/000's mode collapse).

classes covered: how many classes receive at least `min_fraction` of the generated samples' top
predictions; KL(p_gen || p_real) between the predicted class histogram of generated images and
the real class distribution (0 when they match; log(10) ~ 2.30 for a generator stuck on one of
ten equally frequent classes). For conditional models, the fraction of samples that the
classifier assigns to the label they were generated for.
"""

import numpy as np

from keras_gan.metrics.checks import check_finite
from keras_gan.metrics.registry import PROBABILITIES, Column, Metric, register


def mode_coverage(probabilities, real_distribution, *, min_fraction: float = 0.0) -> dict:
    check_finite(probabilities, "generated class probability vectors")
    p = np.asarray(probabilities)
    classes = p.shape[1]
    counts = np.bincount(np.argmax(p, axis=1), minlength=classes)
    p_gen = counts / counts.sum()
    p_real = np.asarray(real_distribution, np.float64)
    p_real = p_real / p_real.sum()
    nonzero = p_gen > 0
    kl = float(np.sum(p_gen[nonzero] * np.log(p_gen[nonzero] / np.maximum(p_real[nonzero], 1e-12))))
    covered = int(np.sum(p_gen > min_fraction))
    return {"classes_covered": covered, "coverage_fraction": covered / classes, "kl_to_real": kl,
            "histogram": counts.tolist()}


def conditional_accuracy(probabilities, labels) -> float:
    """The fraction of generated samples classified as the label they were generated for."""
    check_finite(probabilities, "generated class probability vectors")
    return float(np.mean(np.argmax(np.asarray(probabilities), axis=1) == np.asarray(labels)))


def _modes(i) -> dict:
    frequencies = i.class_frequencies if i.class_frequencies is not None else np.ones(i.fake_probabilities.shape[1])
    modes = mode_coverage(i.fake_probabilities, frequencies)
    out = {"classes_covered": modes["classes_covered"], "mode_kl": modes["kl_to_real"],
           "class_histogram": modes["histogram"]}
    if i.fake_labels is not None:
        out["label_accuracy"] = conditional_accuracy(i.fake_probabilities, i.fake_labels)
    return out


register(Metric("modes", "classes covered by the classifier's predictions, KL to the real class frequencies, and "
                "for conditional generators the fraction classified as the label asked for",
                frozenset({PROBABILITIES}), _modes,
                (Column("mode_kl", "mode KL", "{:.3f}"),
                 Column("classes_covered", "classes covered", "{}", "higher", report=False),
                 Column("label_accuracy", "label accuracy", "{:.3f}", "higher", report=False)),
                keys=("classes_covered", "mode_kl", "class_histogram", "label_accuracy"), classifier_only=True))
