"""Does the map point at the lesion? Three scores of a saliency map against a binary mask.

- pointing game: 1 if the map's maximum falls inside the mask; where several pixels tie for the
  maximum, the share of them inside the mask (the hit rate of pointing at one of them at random: a
  flat map scores the mask's area, not a sure hit);
- relevance mass: the share of the map's positive mass inside the mask;
- top-k IoU: IoU between the ``top_fraction`` most salient pixels (``k`` of them) and the mask;
  where pixels tie at the cut, each tied pixel counts as selected in the share that is left of ``k``
  (the expected overlap of taking the ties at random), so a plateau never selects more than ``k``
  pixels and none of its pixels is favoured by its position;
- top-k coverage: the share of the mask's pixels among the ``top_fraction`` most salient (same tie
  rule): the confounder sensitivity of Sun et al. (MICCAI 2023) when the mask is a shortcut marker.

Maps ``[N, H, W]``, masks ``[N, H, W]`` (nonzero = lesion); images with an empty mask are
skipped (NaN). Only meaningful where the masks mark what the class is about (lesions), so
the evaluate stage computes them for ``mask_kind: lesion`` datasets only.
"""

from __future__ import annotations

import numpy as np


def pointing_game(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """``[N]``: the share of the map's tied maxima inside the mask (1.0 / 0.0 for a single maximum), NaN for an empty mask."""
    hits = [(mask > 0)[saliency == saliency.max()].mean() for saliency, mask in zip(maps, masks, strict=True)]
    return _skip_empty(np.asarray(hits, np.float64), masks)


def mass_in_mask(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """``[N]``: sum of positive saliency inside the mask / sum of positive saliency (0 when there is none)."""
    positive = np.maximum(maps, 0).astype(np.float64)
    total = positive.sum(axis=(1, 2))
    inside = (positive * (masks > 0)).sum(axis=(1, 2))
    return _skip_empty(np.divide(inside, total, out=np.zeros_like(total), where=total > 0), masks)


def top_fraction_iou(maps: np.ndarray, masks: np.ndarray, top_fraction: float) -> np.ndarray:
    """``[N]``: IoU of the ``k = round(top_fraction * H * W)`` most salient pixels with the mask, ties at the cut shared."""
    scores = []
    for saliency, mask in zip(maps, masks, strict=True):
        overlap, k, area = _top_overlap(saliency, mask, top_fraction)
        scores.append(overlap / (k + area - overlap))
    return _skip_empty(np.asarray(scores, np.float64), masks)


def top_fraction_coverage(maps: np.ndarray, masks: np.ndarray, top_fraction: float) -> np.ndarray:
    """``[N]``: the share of the mask's pixels among the map's ``top_fraction`` most salient, ties at the
    cut shared (a map that ignores the region scores about ``top_fraction``; one that singles it out, 1)."""
    scores = []
    for saliency, mask in zip(maps, masks, strict=True):
        overlap, _, area = _top_overlap(saliency, mask, top_fraction)
        scores.append(overlap / max(area, 1))
    return _skip_empty(np.asarray(scores, np.float64), masks)


def _top_overlap(saliency: np.ndarray, mask: np.ndarray, top_fraction: float) -> tuple[float, int, int]:
    """(pixels of ``mask`` among the ``k`` most salient of ``saliency`` ``[H, W]``, ``k``, the mask's area);
    the pixels tied at the cut each count in the share of the places left to them."""
    values, inside = saliency.ravel(), mask.ravel() > 0
    k = max(round(top_fraction * values.size), 1)
    cut = np.partition(values, values.size - k)[values.size - k]  # the k-th largest value
    above, tied = values > cut, values == cut
    share_of_ties = (k - above.sum()) / tied.sum()
    return float((above & inside).sum() + share_of_ties * (tied & inside).sum()), k, int(inside.sum())


def _skip_empty(scores: np.ndarray, masks: np.ndarray) -> np.ndarray:
    return np.where(masks.reshape(len(masks), -1).any(axis=1), scores, np.nan)
