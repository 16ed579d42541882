"""Brain MRI phantoms (contrast-enhanced T1 look) with the three tumour types of the Figshare set.

Anatomy: scalp fat (bright ring), skull (dark band), brain with smooth tissue texture and a
brighter cortical rim, two lateral ventricles (dark). Lesions, by class:

- **meningioma**: extra-axial, a homogeneous enhancing dome pressed against the inner skull;
- **glioma**: intra-axial, irregular outline, enhancing rim, necrotic (dark) core and a
  surrounding oedema halo (the halo is outside the tumour mask, as in the real masks);
- **pituitary**: small, enhancing, midline at the skull base.

A patient's lesion is drawn once and cut at several slice positions (its size varies with
the slice). ``atypical_fraction`` of patients get a lesion placed and shaped like no class
in particular, so that accuracy stays below 100 %. Intensities are int16 (0..~1600).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from medsaliency.data.phantoms.drawing import ellipse, ellipse_radius, grid, irregular_radius, smooth_noise

if TYPE_CHECKING:
    from medsaliency.data.phantoms.options import BrainPhantomConfig

CLASSES = ("meningioma", "glioma", "pituitary")
_INTENSITY_SCALE = 1000.0


@dataclass(frozen=True)
class Head:
    """Patient anatomy: head semi-axes (normalised units) and brain texture seed."""

    radii: tuple[float, float]
    texture_seed: int


@dataclass(frozen=True)
class Lesion:
    """Patient lesion: kind (a class name, or ``"atypical"``), centre, radius and outline wobble."""

    kind: str
    centre: tuple[float, float]
    radius: float
    harmonics: np.ndarray


def draw_patient(rng: np.random.Generator, label: str, atypical_fraction: float) -> tuple[Head, Lesion]:
    """Random anatomy and a lesion of class ``label`` (or an atypical one) for one patient."""
    head = Head(radii=(rng.uniform(0.82, 0.9), rng.uniform(0.68, 0.78)), texture_seed=int(rng.integers(2**31)))
    inner = (head.radii[0] * 0.86, head.radii[1] * 0.86)
    kind = "atypical" if rng.random() < atypical_fraction else label
    harmonics = np.column_stack([rng.uniform(0.0, 0.12, 4), rng.uniform(0, 2 * np.pi, 4)])
    if kind == "meningioma":
        angle = rng.uniform(-np.pi, 0.0)  # upper half: convexity meningioma
        radius = rng.uniform(0.12, 0.2)
        centre = ((inner[0] - 0.4 * radius) * np.sin(angle), (inner[1] - 0.4 * radius) * np.cos(angle))
    elif kind == "glioma":
        angle, distance = rng.uniform(0, 2 * np.pi), rng.uniform(0.25, 0.45)
        radius = rng.uniform(0.13, 0.22)
        centre = (distance * inner[0] * np.sin(angle) - 0.05, distance * inner[1] * np.cos(angle))
    elif kind == "pituitary":
        radius = rng.uniform(0.06, 0.1)
        centre = (inner[0] * rng.uniform(0.55, 0.65), rng.uniform(-0.03, 0.03))
    else:
        angle, distance = rng.uniform(0, 2 * np.pi), rng.uniform(0.0, 0.6)
        radius = rng.uniform(0.08, 0.16)
        centre = (distance * inner[0] * np.sin(angle), distance * inner[1] * np.cos(angle))
    return head, Lesion(kind=kind, centre=centre, radius=radius, harmonics=harmonics)


def render_slice(
    head: Head, lesion: Lesion, slice_position: float, config: BrainPhantomConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One slice: int16 image ``[S, S]`` and bool tumour mask ``[S, S]``, ``S = config.size``.

    ``slice_position`` in [-1, 1]: 0 cuts the lesion through its middle; further out, the
    head and the lesion get smaller.
    """
    y, x = grid(config.size)
    scale = np.sqrt(1.0 - 0.25 * slice_position**2)
    radii = (head.radii[0] * scale, head.radii[1] * scale)
    head_mask = ellipse(y, x, (0.0, 0.0), radii)
    skull_inner = ellipse(y, x, (0.0, 0.0), (radii[0] * 0.92, radii[1] * 0.92))
    brain = ellipse(y, x, (0.0, 0.0), (radii[0] * 0.86, radii[1] * 0.86))
    texture = smooth_noise(np.random.default_rng(head.texture_seed), config.size, 0.02)

    image = np.full(y.shape, 0.02, dtype=np.float32)
    image[head_mask] = 0.75
    image[skull_inner] = 0.1
    cortex = brain & (ellipse_radius(y, x, (0.0, 0.0), (radii[0] * 0.86, radii[1] * 0.86)) > 0.88)
    image[brain] = 0.45 + 0.05 * texture[brain]
    image[cortex] += 0.08
    ventricle_size = 1.0 - 0.5 * abs(slice_position)
    for side in (-1.0, 1.0):
        ventricle = ellipse(y, x, (-0.08, side * 0.09), (0.16 * ventricle_size, 0.06 * ventricle_size), angle=side * 0.35)
        image[ventricle & brain] = 0.15

    lesion_scale = np.sqrt(max(1.0 - slice_position**2, 0.15))
    mask = _draw_lesion(image, y, x, brain, lesion, lesion_scale, config.lesion_contrast)
    image = image + config.noise_std * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(image * _INTENSITY_SCALE, 0, 32767).astype(np.int16), mask


def _draw_lesion(
    image: np.ndarray, y: np.ndarray, x: np.ndarray, brain: np.ndarray, lesion: Lesion, scale: float, contrast: float
) -> np.ndarray:
    """Paint ``lesion`` into ``image`` in place; return its bool mask (inside the brain only)."""
    radius = lesion.radius * scale
    if lesion.kind == "glioma":
        distance = irregular_radius(y, x, lesion.centre, radius, lesion.harmonics)
        oedema = brain & (distance > 1.0) & (distance <= 1.6)
        image[oedema] -= 0.25 * contrast
        mask = brain & (distance <= 1.0)
        image[mask & (distance > 0.6)] += contrast
        image[mask & (distance <= 0.6)] -= 0.6 * contrast
        return mask
    if lesion.kind == "atypical":
        distance = irregular_radius(y, x, lesion.centre, radius, lesion.harmonics * 0.5)
        mask = brain & (distance <= 1.0)
        image[mask] += 0.7 * contrast
        return mask
    distance = ellipse_radius(y, x, lesion.centre, (radius, radius * 1.1))
    mask = brain & (distance <= 1.0)
    image[mask] += contrast * (1.0 - 0.15 * distance[mask])
    return mask
