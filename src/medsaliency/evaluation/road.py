"""ROAD: RemOve And Debias (Rong et al. 2022), MoRF and LeRF with noisy linear imputation.

Blurring or blacking out pixels makes inputs the model never saw, so a falling score can mean
"out of distribution" rather than "important pixels gone". ROAD removes pixels by **noisy linear
imputation**: each removed pixel becomes the weighted mean of its 8 neighbours (direct
neighbours 1/6, diagonal 1/12; removed neighbours are unknowns of the same sparse linear system,
solved by SciPy), plus Gaussian noise of standard deviation ``noise`` (image units, [0, 1]).

For each of ``percentages`` (of the pixels, ``int(H * W * p / 100)`` of them), in two orders:
**MoRF** removes the most relevant pixels first (a faithful map makes the explained class's
probability fall: a **low** MoRF score is good), **LeRF** the least relevant first (the
probability should hold: **high** is good); their **gap** (LeRF - MoRF) summarises both.
Each curve's score is its mean-height area: the trapezoid area over the removed share divided by
the share range, i.e. the curve's average probability. What this is and is not: Rong et al. score
**accuracy** (the share of images still classified as their class at each percentage, one number per
dataset); here each image gets the explained class's **probability**, so that every image has a
score for the intervals and tests, and the tables say "probability". The gap LeRF - MoRF is not one
of Rong et al.'s numbers: it is the symmetric relevance gain (SRG) of Blücher et al. (2024), the area
between the two curves that Schulz et al. (2020) call the degradation test's score. The noise is drawn from a generator
seeded per image, so results do not depend on where the image ran.

The imputation is the one of Rong et al.'s code and of Quantus ``noisy_linear_imputation``; with
``noise = 0`` ``tests/evaluation/test_road.py`` checks it, and Quantus ``ROAD``'s MoRF
accuracies, against Quantus 0.6.0 on the same images and maps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from medsaliency.evaluation.pixel_order import least_salient_first, most_salient_first

ORDERS = ("morf", "lerf")

# (row offset, column offset) -> weight of that neighbour in the imputed pixel's mean.
NEIGHBOUR_WEIGHTS = {
    (0, 1): 1 / 6,
    (0, -1): 1 / 6,
    (1, 0): 1 / 6,
    (-1, 0): 1 / 6,
    (1, 1): 1 / 12,
    (1, -1): 1 / 12,
    (-1, 1): 1 / 12,
    (-1, -1): 1 / 12,
}


@dataclass(frozen=True)
class RoadSettings:
    """``percentages`` of the pixels removed (ascending, in (0, 100)); ``noise`` the imputation's noise std."""

    percentages: tuple[float, ...] = (10, 30, 50, 70, 90)
    noise: float = 0.01


@dataclass(frozen=True)
class ImageRoad:
    """One image's probabilities ``[2, M, P, K]``: order (MoRF, LeRF), method, percentage, class."""

    probabilities: np.ndarray
    explained_class: int

    def scores(self, percentages: tuple[float, ...]) -> dict[str, np.ndarray]:
        """``morf`` and ``lerf`` (mean probability of the explained class over the percentages) and ``gap``, ``[M]`` each."""
        curves = self.probabilities[..., self.explained_class].astype(np.float64)
        share = np.asarray(percentages, np.float64) / 100
        areas = np.trapezoid(curves, share, axis=-1) / (share[-1] - share[0]) if len(share) > 1 else curves[..., 0]
        return {"morf": areas[0], "lerf": areas[1], "gap": areas[1] - areas[0]}


def noisy_linear_imputation(image: np.ndarray, removed: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """``image`` ``[H, W, C]`` with its ``removed`` pixels (bool ``[H, W]``, not all) imputed, float64."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import splu

    height, width = removed.shape
    values = image.reshape(height * width, -1).astype(np.float64)
    unknown = np.flatnonzero(removed.ravel())
    if not len(unknown):
        return values.reshape(image.shape)
    variable = np.full(height * width, -1, np.int64)
    variable[unknown] = np.arange(len(unknown))
    rows, columns = np.divmod(unknown, width)
    diagonal = np.zeros(len(unknown))
    right = np.zeros((len(unknown), values.shape[1]))
    entries_i, entries_j, entries_w = [], [], []
    for (dr, dc), weight in NEIGHBOUR_WEIGHTS.items():
        r, c = rows + dr, columns + dc
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        neighbour = np.where(inside, r * width + c, 0)
        diagonal += weight * inside
        known = inside & (variable[neighbour] < 0)
        right[known] += weight * values[neighbour[known]]
        free = inside & ~known
        entries_i.append(np.flatnonzero(free))
        entries_j.append(variable[neighbour[free]])
        entries_w.append(np.full(free.sum(), -weight))
    size = len(unknown)
    i = np.concatenate([np.arange(size), *entries_i])
    j = np.concatenate([np.arange(size), *entries_j])
    w = np.concatenate([diagonal, *entries_w])
    system = coo_matrix((w, (i, j)), shape=(size, size)).tocsc()
    # Symmetric (the weights are) and diagonally dominant: SuperLU's symmetric mode with a minimum-degree
    # ordering of A + A^T solves these grid systems ~1.4x faster than spsolve's default (COLAMD).
    solution = splu(system, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True}).solve(right).reshape(size, -1)
    imputed = values.copy()
    imputed[unknown] = solution + noise * rng.standard_normal(solution.shape)
    return imputed.reshape(image.shape)


def removal_masks(saliency: np.ndarray, percentages: tuple[float, ...], ties: np.ndarray) -> np.ndarray:
    """bool ``[2, P, H, W]``: per order (MoRF, LeRF) and percentage the pixels removed (ties in the
    order of ``ties`` ``[H * W]``, :func:`~medsaliency.evaluation.pixel_order.tie_break`)."""
    size = saliency.size
    counts = [int(size * p / 100) for p in percentages]
    masks = np.zeros((2, len(counts), size), bool)
    for o, order in enumerate((most_salient_first(saliency, ties), least_salient_first(saliency, ties))):
        for p, count in enumerate(counts):
            masks[o, p, order[:count]] = True
    return masks.reshape(2, len(counts), *saliency.shape)


def image_road(
    image: np.ndarray,
    maps: np.ndarray,
    explained_class: int,
    predict: Callable[[np.ndarray], np.ndarray],
    settings: RoadSettings,
    rng: np.random.Generator,
    ties: np.ndarray,
) -> ImageRoad:
    """ROAD of every map ``[M, H, W]`` of ``image`` ``[H, W, C]``; ``predict`` maps ``[B, H, W, C]`` to ``[B, K]``;
    ``rng`` draws the imputation noise, ``ties`` ``[H * W]`` orders tied pixels."""
    masks = np.stack([removal_masks(saliency, settings.percentages, ties) for saliency in maps], axis=1)  # [2, M, P, H, W]
    imputed = [noisy_linear_imputation(image, removed, settings.noise, rng) for removed in masks.reshape(-1, *image.shape[:2])]
    probabilities = predict(np.stack(imputed).astype(image.dtype))
    return ImageRoad(probabilities.reshape(*masks.shape[:3], -1), int(explained_class))
