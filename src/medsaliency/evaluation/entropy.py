"""Image information estimators for PIC, selectable by name (``evaluation.entropy``).

- ``webp``: byte length of the lossless WebP encoding (PAIR ``saliency.metrics.pic``).
- ``shannon``: Shannon entropy in bits of a 256-bin histogram over the fixed uint8 range.
- ``shannon_minmax``: the paper's exact variant (Brima & Atemkeng, Eq. 1): ``np.histogram``
  with 256 bins over the image's own min..max and ``density=True``, so the "probabilities"
  are densities (they sum to 1 only when the bins are one grey level wide) and the value
  depends on the image's range as well as on its distribution.

All take a uint8 image ``[H, W]`` or ``[H, W, C]`` and return a float.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np


def webp_entropy(image: np.ndarray) -> float:
    """Bytes of the lossless WebP encoding (quality 100), as PAIR's ``estimate_image_entropy``."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="webp", lossless=True, quality=100)
    return float(buffer.tell())


def shannon_entropy(image: np.ndarray) -> float:
    """Bits per pixel of the 256-bin histogram over [0, 255]."""
    counts, _ = np.histogram(image, bins=256, range=(0.0, 256.0))
    probabilities = counts[counts > 0] / counts.sum()
    return float(-(probabilities * np.log2(probabilities)).sum())


def shannon_minmax_entropy(image: np.ndarray) -> float:
    """``-sum(d log2 d)`` of the density-normalised 256-bin histogram over [min, max] (0 for a flat image)."""
    if image.min() == image.max():
        return 0.0
    densities, _ = np.histogram(image, bins=256, density=True)
    densities = densities[densities > 0]
    return float(-(densities * np.log2(densities)).sum())


ESTIMATORS: dict[str, Callable[[np.ndarray], float]] = {
    "webp": webp_entropy,
    "shannon": shannon_entropy,
    "shannon_minmax": shannon_minmax_entropy,
}
