"""The planted shortcut: a class-coded marker burnt into the prepared images of every split.

A bright square whose corner encodes the class (class ``k`` -> corner ``k % 4``: top-left,
top-right, bottom-left, bottom-right) is drawn on every image the model is trained, validated
and tested on. A model can then score well by reading the corner instead of the lesion; the
evaluation measures how much it does (its accuracy on the same test images without the marker)
and how clearly each saliency method shows it (the share of saliency on the marker).

The marker *region* of an image exists whether or not the shortcut is planted, so a clean run
reports the same ``marker_mass`` measure as a baseline for the shortcut run.
"""

from __future__ import annotations

import numpy as np

from medsaliency.config import ShortcutConfig
from medsaliency.data.phantoms.drawing import square_marker


def marker_regions(labels: np.ndarray, size: int, size_fraction: float) -> np.ndarray:
    """uint8 ``[N, size, size]``: 1 on the marker square of each image's class corner."""
    corners = {label: square_marker(size, int(label) % 4, size_fraction) for label in np.unique(labels)}
    regions = np.zeros((len(labels), size, size), dtype=np.uint8)
    for index, label in enumerate(labels):
        regions[index] = corners[label]
    return regions


def plant_markers(x: np.ndarray, regions: np.ndarray, config: ShortcutConfig) -> np.ndarray:
    """A copy of images ``x`` ``[N, S, S, C]`` (values in [0, 1]) with the marker pixels set to
    ``config.intensity``; ``x`` itself when the shortcut is disabled."""
    if not config.enabled:
        return x
    marked = x.copy()
    marked[regions.astype(bool)] = config.intensity
    return marked
