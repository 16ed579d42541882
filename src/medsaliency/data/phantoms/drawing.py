"""Drawing primitives shared by the phantoms, on normalised coordinates.

Every shape is evaluated on a grid whose coordinates run from -1 (top, left) to +1
(bottom, right), so one set of shape parameters renders at any pixel size (the chest
images are 299 px and their lung masks 256 px, as in the real database).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage


@lru_cache(maxsize=8)
def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(y, x)`` float32 ``[size, size]`` pixel-centre coordinates in [-1, 1]; y grows downwards.

    Cached and read-only: every phantom of one size shares the same two arrays.
    """
    axis = ((np.arange(size) + 0.5) / size * 2.0 - 1.0).astype(np.float32)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    y.flags.writeable = False
    x.flags.writeable = False
    return y, x


def ellipse(y: np.ndarray, x: np.ndarray, centre: tuple[float, float], radii: tuple[float, float], angle: float = 0.0) -> np.ndarray:
    """Bool mask of an ellipse; ``angle`` in radians rotates it counter-clockwise."""
    return ellipse_radius(y, x, centre, radii, angle) <= 1.0


def ellipse_radius(y: np.ndarray, x: np.ndarray, centre: tuple[float, float], radii: tuple[float, float], angle: float = 0.0) -> np.ndarray:
    """Normalised elliptical distance from ``centre``: 1.0 on the ellipse's outline."""
    dy, dx = y - centre[0], x - centre[1]
    cos, sin = np.cos(angle), np.sin(angle)
    along, across = dx * cos - dy * sin, dx * sin + dy * cos
    return np.sqrt((along / radii[1]) ** 2 + (across / radii[0]) ** 2)


def irregular_radius(y: np.ndarray, x: np.ndarray, centre: tuple[float, float], radius: float, harmonics: np.ndarray) -> np.ndarray:
    """Distance from ``centre`` over a radius that wobbles with angle: 1.0 on the outline.

    ``harmonics``: float ``[k, 2]`` amplitude and phase of the k-th angular harmonic
    (relative to ``radius``), which makes glioma-like irregular outlines.
    """
    dy, dx = y - centre[0], x - centre[1]
    theta = np.arctan2(dy, dx)
    wobble = np.ones_like(theta)
    for order, (amplitude, phase) in enumerate(harmonics, start=2):
        wobble += amplitude * np.cos(order * theta + phase)
    return np.hypot(dy, dx) / (radius * wobble)


def smooth_noise(rng: np.random.Generator, size: int, sigma_fraction: float) -> np.ndarray:
    """Zero-mean, unit-std Gaussian-filtered noise ``[size, size]``; blobs ~``sigma_fraction * size`` px."""
    field = ndimage.gaussian_filter(
        rng.standard_normal((size, size), dtype=np.float32), sigma=max(sigma_fraction * size, 0.5), mode="reflect"
    )
    return (field - field.mean()) / (field.std() + 1e-12)


def square_marker(size: int, corner: int, size_fraction: float) -> np.ndarray:
    """Bool ``[size, size]`` square in corner 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right."""
    side = max(2, round(size * size_fraction))
    margin = max(1, size // 32)
    top = margin if corner in (0, 1) else size - margin - side
    left = margin if corner in (0, 2) else size - margin - side
    marker = np.zeros((size, size), dtype=bool)
    marker[top : top + side, left : left + side] = True
    return marker


def outline_coordinates(mask: np.ndarray, max_points: int = 64) -> np.ndarray:
    """Boundary of a bool mask as MATLAB ``tumorBorder``: float ``[2n]`` = x1, y1, x2, y2, ... (1-based).

    Points are the mask's edge pixels ordered by angle around the centroid.
    """
    edge = mask & ~ndimage.binary_erosion(mask)
    rows, cols = np.nonzero(edge)
    if rows.size == 0:
        return np.zeros(0)
    order = np.argsort(np.arctan2(rows - rows.mean(), cols - cols.mean()), kind="stable")
    keep = order[np.linspace(0, order.size - 1, min(max_points, order.size)).astype(int)]
    return np.column_stack([cols[keep] + 1.0, rows[keep] + 1.0]).ravel()
