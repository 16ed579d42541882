"""Insertion and deletion curves (Petsiuk et al. 2018, RISE), per image and method.

Pixels are taken in the map's order, most salient first (ties in the image's seeded random order,
:mod:`.pixel_order`), in ``steps`` equal shares of the image (share ``k / steps`` of the pixels at step ``k``):

- **deletion** starts from the image and replaces the taken pixels with the deletion baseline,
  black (0 in every channel, RISE's choice); a faithful map makes the explained class's
  probability fall fast: a **low** deletion AUC is good.
- **insertion** starts from the image blurred with a Gaussian of ``blur_sigma`` pixels (RISE's
  baseline: it keeps the image's low frequencies, so the model sees a plausible input rather than
  a black one) and puts the taken pixels back; the probability should rise fast: a **high**
  insertion AUC is good.

The score is the softmax probability of the explained class; the AUC is the trapezoid area over
the share of pixels taken, in [0, 1]. One image's ``2 * M * (steps + 1)`` inputs go to the model in
fixed batches, so its curves do not depend on which other images share its task. Neither Quantus
(its PixelFlipping is deletion with a fixed value, no insertion) nor Xplique (pins TensorFlow <=
2.20) runs on this stack: ``tests/evaluation/test_insertion_deletion.py`` checks the curves on
models whose answers are known by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from medsaliency.evaluation.pixel_order import most_salient_first

DELETION_BASELINE = 0.0


@dataclass(frozen=True)
class InsertionDeletionSettings:
    """``steps`` shares of the image per curve; ``blur_sigma`` the insertion baseline's Gaussian (pixels)."""

    steps: int = 16
    blur_sigma: float = 1.5


@dataclass(frozen=True)
class ImageInsertionDeletion:
    """One image's curves, the explained class's probability: ``insertion`` and ``deletion`` ``[M, steps + 1]``."""

    insertion: np.ndarray
    deletion: np.ndarray

    def aucs(self) -> tuple[np.ndarray, np.ndarray]:
        """Insertion and deletion AUCs ``[M]`` each."""
        return curve_auc(self.insertion), curve_auc(self.deletion)


def taken_masks(saliency: np.ndarray, steps: int, ties: np.ndarray) -> np.ndarray:
    """bool ``[steps + 1, H, W]``: at step ``k`` the ``round(k / steps * H * W)`` most salient pixels
    (ties taken in the order of ``ties``, :func:`~medsaliency.evaluation.pixel_order.tie_break`)."""
    order = most_salient_first(saliency, ties)
    rank = np.empty(order.size, np.int64)
    rank[order] = np.arange(order.size)
    counts = np.round(np.linspace(0, order.size, steps + 1)).astype(np.int64)
    return (rank[None, :] < counts[:, None]).reshape(steps + 1, *saliency.shape)


def curve_inputs(
    image: np.ndarray, maps: np.ndarray, settings: InsertionDeletionSettings, ties: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The model inputs of ``image`` ``[H, W, C]`` for ``maps`` ``[M, H, W]`` (pixel ties in the order of
    ``ties`` ``[H * W]``): insertion and deletion images ``[M, steps + 1, H, W, C]`` each, same dtype as ``image``."""
    from scipy.ndimage import gaussian_filter

    blurred = gaussian_filter(image.astype(np.float64), sigma=(settings.blur_sigma, settings.blur_sigma, 0)).astype(image.dtype)
    taken = np.stack([taken_masks(saliency, settings.steps, ties) for saliency in maps])[..., None]
    insertion = np.where(taken, image, blurred)
    deletion = np.where(taken, np.asarray(DELETION_BASELINE, image.dtype), image)
    return insertion, deletion


def image_insertion_deletion(
    image: np.ndarray,
    maps: np.ndarray,
    explained_class: int,
    predict: Callable[[np.ndarray], np.ndarray],
    settings: InsertionDeletionSettings,
    ties: np.ndarray,
) -> ImageInsertionDeletion:
    """Both curves of every map of one image; ``predict`` maps ``[B, H, W, C]`` to probabilities ``[B, K]``;
    ``ties`` ``[H * W]`` the image's tie-breaking key (:func:`~medsaliency.evaluation.pixel_order.tie_break`)."""
    insertion, deletion = curve_inputs(image, maps, settings, ties)
    shape = insertion.shape[:2]
    probabilities = predict(np.concatenate([insertion.reshape(-1, *image.shape), deletion.reshape(-1, *image.shape)]))
    scores = probabilities[:, explained_class].astype(np.float64).reshape(2, *shape)
    return ImageInsertionDeletion(scores[0], scores[1])


def curve_auc(curves: np.ndarray) -> np.ndarray:
    """Trapezoid area of ``curves`` ``[..., steps + 1]`` over the share of pixels taken, 0 to 1."""
    return np.trapezoid(curves, np.linspace(0.0, 1.0, curves.shape[-1]), axis=-1)
