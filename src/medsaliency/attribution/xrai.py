"""XRAI (Kapishnikov 2019): region attributions over PAIR ``saliency``'s Felzenszwalb segments.

XRAI runs Integrated Gradients from a black and a white baseline (``attribution.xrai.steps``
steps each) and ranks over-segmented regions by attribution density. Its output is one value per
pixel, ``[H, W]`` (the gain of the region that claimed the pixel; larger = more important), kept
as it is. ``full`` ranks regions greedily by their gain over what is not yet covered (exact);
``fast`` ranks them by their density once (the paper's "Fast XRAI").

What is PAIR's and what is ours: the segmentation is PAIR's (``_get_segments_felzenszwalb``:
six Felzenszwalb scales at 224 px, each region dilated by a disk of 5 px; the dilation is ours,
all masks at once, same pixels), the fast ranking is
PAIR's ``XRAI._xrai_fast``. The IG comes from :func:`~medsaliency.attribution.gradients.integrated`
(the same sums, batched across images), and the full algorithm's greedy loop is
:func:`rank_regions`: PAIR scans every remaining region with boolean masks at every step
(~0.3-0.6 s an image at 64 px); here the regions are the rows of one matrix and each step's gains
are two matrix-vector products, with PAIR's own float32 density deciding between near-ties and
giving the stored value, so the map is PAIR's.

The two expensive inputs are computed once and reused: the segmentation depends only on the
image (shared by every model and both algorithms, cached by content), the IG attribution on the
model, image and class (shared by ``full`` and ``fast``).
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from typing import Protocol

import numpy as np
from pydantic import Field

from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.attribution.gradients import integrated
from medsaliency.sections import Section

MIN_PIXEL_DIFF = 50  # PAIR's XRAIParameters.experimental_params["min_pixel_diff"]
DILATION_RADIUS = 5  # PAIR's _get_segments_felzenszwalb(dilation_rad=5)
NEAR_TIE = 1e-5  # relative gap below which PAIR's float32 density decides between regions


class XraiOptions(Section):
    """XRAI (``attribution.xrai``, both algorithms): IG with ``steps`` steps from black and white
    baselines; the full algorithm ranks regions up to ``area_threshold`` of the image (1.0 = all).
    Defaults: PAIR's."""

    steps: int = Field(default=100, ge=1)
    area_threshold: float = Field(default=1.0, gt=0, le=1)


class XraiSettings(Protocol):
    """What XRAI reads of the attribution options."""

    @property
    def batch_size(self) -> int: ...
    @property
    def xrai(self) -> XraiOptions: ...


_CACHE_SIZE = 64
_segments: OrderedDict = OrderedDict()
_attributions: OrderedDict = OrderedDict()


def xrai_maps(explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: XraiSettings, algorithm: str) -> np.ndarray:
    """``[N, H, W]`` float32 XRAI maps of ``images`` ``[N, H, W, C]``; ``algorithm`` is ``full`` or ``fast``."""
    attributions = base_attributions(explained, images, classes, config)
    maps = []
    for image, attribution in zip(images, attributions, strict=True):
        density = attribution.max(axis=-1)  # PAIR merges channels by their maximum
        segments = image_segments(image.astype(np.float32))
        if algorithm == "full":
            maps.append(rank_regions(density, segments, config.xrai.area_threshold))
        else:
            from saliency.core import XRAI

            maps.append(XRAI._xrai_fast(attr=density, segs=segments, min_pixel_diff=MIN_PIXEL_DIFF)[0])
    return np.stack(maps).astype(np.float32)


def image_segments(image: np.ndarray) -> list[np.ndarray]:
    """PAIR's Felzenszwalb over-segmentation of ``image`` (boolean ``[H, W]`` masks), cached by content.

    PAIR's segmentation undilated, then every mask dilated at once by :func:`dilate_masks` (the
    same pixels as PAIR's one ``skimage`` dilation per mask, ~5x faster)."""
    from saliency.core.xrai import _get_segments_felzenszwalb

    def segment() -> list[np.ndarray]:
        masks = np.stack(_get_segments_felzenszwalb(image, dilation_rad=0))
        return list(dilate_masks(masks, DILATION_RADIUS))

    key = hashlib.md5(image.tobytes() + str(image.shape).encode()).hexdigest()
    return _cached(_segments, key, segment)


def dilate_masks(masks: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation of every mask of ``masks`` bool ``[M, H, W]`` by ``skimage``'s ``disk(radius)``
    (pixels beyond the border contribute nothing): bool ``[M, H, W]``.

    The disk is a stack of centred horizontal runs, one per row offset ``dy`` of half-width
    ``w(dy)``: dilate along rows by each half-width once (growing ``w`` by one pixel a step), then
    OR each row offset's run shifted by ``dy``, about 3 radius whole-array operations in all."""
    height, width = masks.shape[1:]
    half_widths = {dy: math.isqrt(radius**2 - dy**2) for dy in range(-radius, radius + 1)}
    by_width = [masks]
    for w in range(1, radius + 1):
        grown = by_width[-1].copy()
        grown[:, :, w:] |= masks[:, :, : width - w]
        grown[:, :, : width - w] |= masks[:, :, w:]
        by_width.append(grown)
    dilated = by_width[radius].copy()
    for dy, w in half_widths.items():
        if dy > 0:
            dilated[:, dy:] |= by_width[w][:, : height - dy]
        elif dy < 0:
            dilated[:, : height + dy] |= by_width[w][:, -dy:]
    return dilated


def base_attributions(explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: XraiSettings) -> list[np.ndarray]:
    """XRAI's own IG input of each image: the mean of IG from a black (image minimum) and a white
    (image maximum) baseline, ``[H, W, C]`` float32, cached per model, image and class."""
    keys = [
        (explained.identity, hashlib.md5(image.tobytes()).hexdigest(), int(target), config.xrai.steps, config.batch_size)
        for image, target in zip(images, classes, strict=True)
    ]
    found = {key: _cached(_attributions, key, None) for key in keys if key in _attributions}
    missing = [index for index, key in enumerate(keys) if key not in found]
    paths = (
        (images[index], np.full_like(images[index], bound(images[index])), classes[index])
        for index in missing
        for bound in (np.min, np.max)
    )
    computed = integrated(explained, paths, config.xrai.steps, config.batch_size)
    for index in missing:
        found[keys[index]] = value = np.mean([next(computed), next(computed)], axis=0)
        _cached(_attributions, keys[index], lambda value=value: value)
    return [found[key] for key in keys]


def rank_regions(density: np.ndarray, segments: list[np.ndarray], area_threshold: float = 1.0) -> np.ndarray:
    """PAIR's full XRAI ranking of ``segments`` over the ``[H, W]`` attribution ``density``: ``[H, W]``
    float64, each pixel the gain of the region that first covered it.

    Step by step, the region whose not-yet-covered pixels have the highest mean density (among
    those adding at least ``MIN_PIXEL_DIFF`` pixels; the first one on ties) claims those pixels
    with that mean, until ``area_threshold`` of the image is covered or no region is left; the
    rest gets its own mean."""
    flat = density.ravel()
    regions = np.stack([segment.ravel() for segment in segments])
    weights = regions.astype(np.float64)
    values, free = np.full(flat.shape, -np.inf), np.ones(flat.shape, bool)
    remaining = np.ones(len(segments), bool)
    while 1.0 - free.mean() <= area_threshold:
        counts = weights @ free
        remaining &= counts >= MIN_PIXEL_DIFF
        if not remaining.any():
            break
        best = _best_region(regions, weights, flat, free, counts, remaining)
        claimed = regions[best] & free
        values[claimed] = flat[claimed].mean()
        free &= ~regions[best]
        remaining[best] = False
    unclaimed = values == -np.inf
    if unclaimed.any():
        values[unclaimed] = flat[unclaimed].mean()
    return values.reshape(density.shape)


def _best_region(
    regions: np.ndarray, weights: np.ndarray, flat: np.ndarray, free: np.ndarray, counts: np.ndarray, remaining: np.ndarray
) -> int:
    """Index of the remaining region with the highest mean density over the ``free`` pixels; regions
    within ``NEAR_TIE`` of the best are compared by PAIR's own float32 mean, the first of equals wins."""
    gains = np.where(remaining, (weights @ np.where(free, flat, 0.0)) / np.maximum(counts, 1), -np.inf)
    top = gains.max()
    candidates = np.flatnonzero(remaining & (gains >= top - NEAR_TIE * max(abs(top), 1e-12)))
    if len(candidates) == 1:
        return int(candidates[0])
    exact = [flat[regions[index] & free].mean() for index in candidates]
    return int(candidates[int(np.argmax(exact))])


def _cached(cache: OrderedDict, key, compute):
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    cache[key] = value = compute()
    if len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return value


def xrai_full(explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: XraiSettings, seeds: np.ndarray) -> np.ndarray:
    """XRAI, full algorithm (greedy region ranking)."""
    return xrai_maps(explained, images, classes, config, "full")


def xrai_fast(explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: XraiSettings, seeds: np.ndarray) -> np.ndarray:
    """XRAI, fast algorithm (regions ranked once by density)."""
    return xrai_maps(explained, images, classes, config, "fast")
