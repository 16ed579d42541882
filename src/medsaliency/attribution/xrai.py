"""XRAI (Kapishnikov 2019) from PAIR ``saliency``: region attributions over Felzenszwalb segments.

XRAI runs Integrated Gradients from a black and a white baseline (``attribution.xrai.steps``
steps, batched) and ranks over-segmented regions by attribution density. Its output is
already one value per pixel, ``[H, W]`` (the region's gain; larger = more important), and is
kept as it is. ``full`` ranks regions greedily by their gain (slow, exact);
``fast`` ranks them by their density once (the paper's "Fast XRAI").
"""

from __future__ import annotations

import numpy as np

from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.config import AttributionConfig


def xrai_map(explained: ExplainedModel, image: np.ndarray, target: int, config: AttributionConfig, algorithm: str) -> np.ndarray:
    """``[H, W]`` float32 XRAI map of one ``[H, W, C]`` image; ``algorithm`` is ``full`` or ``fast``."""
    from saliency.core import XRAI, XRAIParameters

    parameters = XRAIParameters(steps=config.xrai.steps, area_threshold=config.xrai.area_threshold, algorithm=algorithm)
    mask = XRAI().GetMask(image.astype(np.float32), explained.call_model_function, {"class": target}, batch_size=config.batch_size, extra_parameters=parameters)
    return np.asarray(mask, np.float32)


def _xrai(algorithm: str):
    def attribute(explained: ExplainedModel, images: np.ndarray, classes: np.ndarray, config: AttributionConfig, seeds: np.ndarray) -> np.ndarray:
        return np.stack([xrai_map(explained, image, int(target), config, algorithm) for image, target in zip(images, classes, strict=True)])

    attribute.__name__ = f"xrai_{algorithm}"
    attribute.__doc__ = f"XRAI, {algorithm} algorithm, one image at a time."
    return attribute


xrai_full = _xrai("full")
xrai_fast = _xrai("fast")
