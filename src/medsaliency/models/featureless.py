"""Featureless training images (outlier exposure): "no evidence" taught to read as "unsure".

PIC (the evaluate stage) starts every curve from the image blurred from a random 1% of its
pixels and assumes the model is less sure of the explained class there than on the original;
PAIR excludes every image where it is not. A classifier trained only on real images has no
reason to be unsure of a featureless image, so PIC excludes the images of the class it puts
featureless images into. Following Outlier Exposure (Hendrycks, Mazeika & Dietterich, ICLR 2019),
``train.featureless.copies`` featureless copies of each training image are added to the training
data with the uniform distribution as their target. ``train.featureless.perturbation`` says how a
copy is made:

- ``shuffle`` (the default): the image's pixels in a seeded random order. Its intensities stay,
  every shape is gone, and no measure feeds the model such an image;
- ``blur``: PIC's own blur, interpolated from a random ``known_fraction`` of the pixels. That trains
  the model on the evaluation's perturbation and bends what PIC (and the blur-based insertion)
  measure; it is kept to reproduce that measurement (docs/training.md).
"""

from __future__ import annotations

import numpy as np

from medsaliency.config import FeaturelessConfig


def featureless_images(x: np.ndarray, config: FeaturelessConfig, seed: int) -> np.ndarray:
    """float32 ``[copies * N, S, S, C]``: ``config.copies`` featureless copies of each image of ``x``
    ``[N, S, S, C]`` (in [0, 1]), made by ``config.perturbation`` from ``seed``."""
    rng = np.random.default_rng(seed)
    if config.copies == 0 or len(x) == 0:
        return np.zeros((0, *x.shape[1:]), np.float32)
    if config.perturbation == "shuffle":
        return np.concatenate([shuffled_pixels(x, rng) for _ in range(config.copies)]).astype(np.float32)
    return _blurred(x, config, rng)


def shuffled_pixels(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``x`` ``[N, S, S, C]`` with each image's pixels (all channels of a pixel together) in its own random order."""
    n, height, width, channels = x.shape
    flat = x.reshape(n, height * width, channels)
    order = np.argsort(rng.random((n, height * width)), axis=1)
    return np.take_along_axis(flat, order[..., None], axis=1).reshape(x.shape)


def _blurred(x: np.ndarray, config: FeaturelessConfig, rng: np.random.Generator) -> np.ndarray:
    """Each image blurred ``config.copies`` times, each time from a random ``config.known_fraction`` of its pixels (PIC's blur)."""
    from medsaliency.evaluation.blur import blur, from_uint8, random_pixel_mask, to_uint8

    height, width, channels = x.shape[1:]
    blurred = [
        blur(to_uint8(image), random_pixel_mask(height, width, config.known_fraction, rng)) for _ in range(config.copies) for image in x
    ]
    return from_uint8(np.stack(blurred), channels)


def soft_targets(y: np.ndarray, n_featureless: int, n_classes: int) -> np.ndarray:
    """float32 ``[N + n_featureless, K]``: one-hot rows for the labels ``y`` ``[N]``, then uniform rows."""
    one_hot = np.eye(n_classes, dtype=np.float32)[y]
    return np.concatenate([one_hot, np.full((n_featureless, n_classes), 1.0 / n_classes, np.float32)])
