"""XRAI (Kapishnikov 2019) from PAIR ``saliency``: region attributions over Felzenszwalb segments.

XRAI runs Integrated Gradients from a black and a white baseline (``attribution.xrai.steps``
steps, batched) and ranks over-segmented regions by attribution density. Its output is
already one value per pixel, ``[H, W]`` (the region's gain; larger = more important), and is
kept as it is. ``full`` ranks regions greedily by their gain (slow, exact);
``fast`` ranks them by their density once (the paper's "Fast XRAI").

The two expensive inputs are computed once and reused: the segmentation depends only on the
image (shared by every model and both algorithms), the IG attribution on the model, image
and class (shared by ``full`` and ``fast``). PAIR accepts both as arguments; the results are
the same as letting each call compute them.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.sections import Section

if TYPE_CHECKING:
    from medsaliency.config import AttributionConfig


class XraiOptions(Section):
    """XRAI (``attribution.xrai``, both algorithms): IG with ``steps`` steps from black and white
    baselines; the full algorithm ranks regions up to ``area_threshold`` of the image (1.0 = all).
    Defaults: PAIR's."""

    steps: int = Field(default=100, ge=1)
    area_threshold: float = Field(default=1.0, gt=0, le=1)


_CACHE_SIZE = 64
_segments: OrderedDict = OrderedDict()
_attributions: OrderedDict = OrderedDict()


def xrai_map(explained: ExplainedModel, image: np.ndarray, target: int, config: AttributionConfig, algorithm: str) -> np.ndarray:
    """``[H, W]`` float32 XRAI map of one ``[H, W, C]`` image; ``algorithm`` is ``full`` or ``fast``."""
    from saliency.core import XRAI, XRAIParameters

    image = image.astype(np.float32)
    parameters = XRAIParameters(steps=config.xrai.steps, area_threshold=config.xrai.area_threshold, algorithm=algorithm)
    mask = XRAI().GetMask(
        image,
        explained.call_model_function,
        {"class": target},
        batch_size=config.batch_size,
        extra_parameters=parameters,
        segments=image_segments(image),
        base_attribution=base_attribution(explained, image, target, config),
    )
    return np.asarray(mask, np.float32)


def image_segments(image: np.ndarray) -> list[np.ndarray]:
    """PAIR's Felzenszwalb over-segmentation of ``image`` (boolean ``[H, W]`` masks), cached by content."""
    from saliency.core.xrai import _get_segments_felzenszwalb

    key = hashlib.md5(image.tobytes() + str(image.shape).encode()).hexdigest()
    return _cached(_segments, key, lambda: _get_segments_felzenszwalb(image))


def base_attribution(explained: ExplainedModel, image: np.ndarray, target: int, config: AttributionConfig) -> np.ndarray:
    """XRAI's own IG input: the mean of IG from a black and from a white baseline, ``[H, W, C]``."""
    from saliency.core import IntegratedGradients

    key = (explained.identity, hashlib.md5(image.tobytes()).hexdigest(), target, config.xrai.steps, config.batch_size)

    def compute() -> np.ndarray:
        baselines = (np.full_like(image, image.min()), np.full_like(image, image.max()))
        attributions = [
            IntegratedGradients().GetMask(
                image,
                explained.call_model_function,
                {"class": target},
                x_baseline=baseline,
                x_steps=config.xrai.steps,
                batch_size=config.batch_size,
            )
            for baseline in baselines
        ]
        return np.mean(attributions, axis=0)

    return _cached(_attributions, key, compute)


def _cached(cache: OrderedDict, key, compute):
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    cache[key] = value = compute()
    if len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return value


def _xrai(algorithm: str):
    def attribute(
        explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: AttributionConfig, seeds: np.ndarray
    ) -> np.ndarray:
        return np.stack([xrai_map(explained, image, int(target), config, algorithm) for image, target in zip(images, classes, strict=True)])

    attribute.__name__ = f"xrai_{algorithm}"
    attribute.__doc__ = f"XRAI, {algorithm} algorithm, one image at a time."
    return attribute


xrai_full = _xrai("full")
xrai_fast = _xrai("fast")
