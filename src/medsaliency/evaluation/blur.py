"""PIC's "blurred" images: pixels outside a known set filled by linear interpolation.

Exactly PAIR ``saliency.metrics.pic.create_blurred_image(method="linear")`` (the corners are
always known; each unknown pixel is interpolated in the Delaunay triangle of known pixels
around it; outside the hull: the image's mean colour; integers rounded), with one Delaunay
triangulation per mask for all channels instead of one per channel. Same triangulation
(same points, same order), so the same pixels. PIC blurs uint8 images: :func:`to_uint8` and
:func:`from_uint8` convert between them and the models' float inputs.
"""

from __future__ import annotations

import numpy as np


def blur(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``image`` uint8 ``[H, W]`` or ``[H, W, C]``, ``known`` bool ``[H, W]`` -> the blurred image, same shape and dtype."""
    from scipy.interpolate import LinearNDInterpolator
    from scipy.spatial import Delaunay

    stacked = image[..., None] if image.ndim == 2 else image
    known = known.copy()
    height, width = known.shape
    known[[0, 0, height - 1, height - 1], [0, width - 1, 0, width - 1]] = True
    if known.all():
        return image
    blurred = stacked * known[..., None].astype(np.float32)
    points, unknown = np.argwhere(known), np.argwhere(~known)
    values = stacked[tuple(points.T)].astype(np.float64)
    triangulation = Delaunay(points.astype(np.float64))  # built directly: LinearNDInterpolator(points) spends ~70% more
    filled = LinearNDInterpolator(triangulation, values, fill_value=np.nan)(unknown)
    outside = np.isnan(filled)
    if outside.any():
        filled = np.where(outside, stacked.mean(axis=(0, 1))[None, :], filled)
    blurred[tuple(unknown.T)] = filled
    if np.issubdtype(image.dtype, np.integer):
        blurred = np.round(blurred)
    blurred = blurred.astype(image.dtype)
    return blurred[..., 0] if image.ndim == 2 else blurred


def random_pixel_mask(height: int, width: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """bool ``[H, W]`` with ``int(H * W * fraction)`` pixels set, drawn without replacement (PAIR's rule)."""
    mask = np.zeros((height, width), bool)
    chosen = rng.choice(mask.size, size=int(mask.size * fraction), replace=False)
    mask[np.unravel_index(chosen, mask.shape)] = True
    return mask


def to_uint8(image: np.ndarray) -> np.ndarray:
    """float ``[H, W, C]`` in [0, 1] -> uint8 ``[H, W]`` (one channel) or ``[H, W, C]``, rounded."""
    pixels = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    return pixels[..., 0] if pixels.shape[-1] == 1 else pixels


def from_uint8(images: np.ndarray, channels: int) -> np.ndarray:
    """uint8 ``[B, H, W]`` or ``[B, H, W, C]`` -> float32 ``[B, H, W, channels]`` in [0, 1]."""
    scaled = images.astype(np.float32) / 255.0
    return scaled[..., None] if scaled.ndim == 3 else scaled.reshape(*scaled.shape[:3], channels)
