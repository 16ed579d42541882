"""Seeded training augmentation in NumPy/SciPy: random horizontal flip, rotation and zoom.

Backend-free on purpose: the same seed gives the same augmented bytes under TensorFlow and JAX,
so the two backends train on one data stream. ``strength`` has the meaning of Keras'
``RandomRotation(strength)`` and ``RandomZoom(strength)``: a rotation of up to ``strength`` of a
full turn either way, a zoom of up to ``strength`` in or out; pixels from outside the image are 0
(``fill_mode="constant"``), values are interpolated bilinearly.
"""

from __future__ import annotations

import numpy as np


def random_transforms(count: int, strength: float, rng: np.random.Generator) -> np.ndarray:
    """``count`` random 2x2 matrices ``[count, 2, 2]`` that map an output pixel's offset from the image
    centre, as (row, column), to the input offset it is read from: flip, rotation, zoom."""
    flip = np.where(rng.random(count) < 0.5, -1.0, 1.0)
    angle = rng.uniform(-strength, strength, count) * 2.0 * np.pi
    zoom = 1.0 + rng.uniform(-strength, strength, count)  # > 1 reads a larger area: the content shrinks
    cos, sin = np.cos(angle) * zoom, np.sin(angle) * zoom
    return np.stack([np.stack([cos, -sin * flip], -1), np.stack([sin, cos * flip], -1)], -2)


def augment(images: np.ndarray, transforms: np.ndarray) -> np.ndarray:
    """``images`` float32 ``[B, H, W, C]`` resampled through ``transforms`` ``[B, 2, 2]`` about each centre."""
    from scipy.ndimage import affine_transform

    centre = (np.asarray(images.shape[1:3], np.float64) - 1.0) / 2.0
    augmented = np.empty_like(images)
    for index, (image, matrix) in enumerate(zip(images, transforms, strict=True)):
        offset = centre - matrix @ centre
        for channel in range(image.shape[-1]):
            augmented[index, ..., channel] = affine_transform(image[..., channel], matrix, offset, order=1, mode="constant", cval=0.0)
    return augmented
