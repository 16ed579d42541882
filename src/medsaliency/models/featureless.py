"""Featureless training images (outlier exposure), off by default: "no evidence" taught to read as "unsure".

PIC (the evaluate stage) starts every curve from the image blurred from a random 1% of its
pixels and assumes the model is less sure of the explained class there than on the original;
PAIR excludes every image where it is not. A classifier trained only on real images has no
reason to be unsure of a featureless image, so PIC excludes the images of the class it puts
featureless images into. Following Outlier Exposure (Hendrycks, Mazeika & Dietterich, ICLR 2019),
``train.featureless.copies`` blurred copies of each training image, each interpolated from its own
random ``known_fraction`` of the pixels (PIC's blur), can be added to the training data with the
uniform distribution as their target. That trains the model on the evaluation's own perturbation
and bends what PIC, insertion and ROAD measure (docs/training.md has the measurement), so
``params.yaml`` leaves it off (``copies: 0``); exclusions are reported as a property of the model.
"""

from __future__ import annotations

import numpy as np

from medsaliency.config import FeaturelessConfig


def featureless_images(x: np.ndarray, config: FeaturelessConfig, seed: int) -> np.ndarray:
    """float32 ``[copies * N, S, S, C]``: each image of ``x`` ``[N, S, S, C]`` (in [0, 1]) blurred
    ``config.copies`` times from a seeded random ``config.known_fraction`` of its pixels."""
    from medsaliency.evaluation.blur import blur, from_uint8, random_pixel_mask, to_uint8

    rng = np.random.default_rng(seed)
    height, width, channels = x.shape[1:]
    blurred = [
        blur(to_uint8(image), random_pixel_mask(height, width, config.known_fraction, rng)) for _ in range(config.copies) for image in x
    ]
    if not blurred:
        return np.zeros((0, *x.shape[1:]), np.float32)
    return from_uint8(np.stack(blurred), channels)


def soft_targets(y: np.ndarray, n_featureless: int, n_classes: int) -> np.ndarray:
    """float32 ``[N + n_featureless, K]``: one-hot rows for the labels ``y`` ``[N]``, then uniform rows."""
    one_hot = np.eye(n_classes, dtype=np.float32)[y]
    return np.concatenate([one_hot, np.full((n_featureless, n_classes), 1.0 / n_classes, np.float32)])
