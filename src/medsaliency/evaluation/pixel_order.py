"""The order in which a removal measure takes an image's pixels: by saliency, ties broken at random.

A stable sort breaks ties in raster order, so among equal pixels (a CAM's zeros, XRAI's region
plateaus) the top rows would always go first: a method would gain or lose by where its plateaus
lie, not by what it says. Insertion/deletion and ROAD break ties by one seeded random key per image
(:func:`tie_break`, the same for every method on that image, drawn from the image's evaluation
seed), so a plateau is taken in an order that favours no region. Without ties the key changes nothing.
PIC keeps PAIR's rule (every pixel at or above the quantile is revealed at once) for parity.
"""

from __future__ import annotations

import numpy as np


def tie_break(pixels: int, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of ``range(pixels)``: the rank of each pixel among its ties."""
    return rng.permutation(pixels)


def most_salient_first(saliency: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """Flat pixel indices ``[H * W]`` of ``saliency`` ``[H, W]``, most salient first, ties in ``ties``' order."""
    return np.lexsort((ties, -saliency.ravel()))


def least_salient_first(saliency: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """Flat pixel indices ``[H * W]`` of ``saliency`` ``[H, W]``, least salient first, ties in ``ties``' order."""
    return np.lexsort((ties, saliency.ravel()))
