"""Chest X-ray phantoms (PA view) for Normal, Lung_Opacity and COVID.

Anatomy: soft-tissue thorax, two dark lungs whose lower border is the diaphragm dome, the
heart and mediastinum (bright, cutting into the left lung), the spine, and curved ribs.
Findings, by class:

- **Normal**: none;
- **Lung_Opacity**: a dense, patchy consolidation in the middle or lower zone of one lung or both;
- **COVID**: bilateral, peripheral, hazy ground-glass opacity, lower zones first.

``atypical_fraction`` of images get a weak finding in an unusual place (upper zones,
central), which keeps accuracy below 100 %. The lung mask is the lungs minus the heart,
rendered from the same shape parameters at the mask's own size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from medsaliency.data.phantoms.drawing import ellipse, ellipse_radius, grid, smooth_noise

if TYPE_CHECKING:
    from medsaliency.data.phantoms.options import ChestPhantomConfig

CLASSES = ("COVID", "Normal", "Lung_Opacity")


@dataclass(frozen=True)
class Thorax:
    """One patient's chest shape in normalised units."""

    lung_radii: tuple[float, float]
    lung_offset: float
    heart_radii: tuple[float, float]
    dome_height: float
    rib_phase: float


def draw_thorax(rng: np.random.Generator) -> Thorax:
    """Random but plausible chest proportions."""
    return Thorax(
        lung_radii=(rng.uniform(0.55, 0.65), rng.uniform(0.24, 0.29)),
        lung_offset=rng.uniform(0.34, 0.4),
        heart_radii=(rng.uniform(0.26, 0.34), rng.uniform(0.2, 0.26)),
        dome_height=rng.uniform(0.42, 0.52),
        rib_phase=rng.uniform(0, 0.08),
    )


def lung_mask(thorax: Thorax, size: int) -> np.ndarray:
    """Bool ``[size, size]``: both lungs, above the diaphragm, outside the heart."""
    y, x = grid(size)
    lungs = np.zeros(y.shape, dtype=bool)
    for side in (-1.0, 1.0):
        lungs |= ellipse(y, x, (-0.05, side * thorax.lung_offset), thorax.lung_radii)
    diaphragm = y < thorax.dome_height - 0.35 * (np.abs(x) - thorax.lung_offset) ** 2
    return lungs & diaphragm & ~_heart(thorax, y, x)


def render_chest(thorax: Thorax, label: str, atypical: bool, config: ChestPhantomConfig, rng: np.random.Generator) -> np.ndarray:
    """uint8 ``[S, S]`` radiograph of one patient, ``S = config.size``."""
    y, x = grid(config.size)
    lungs = lung_mask(thorax, config.size)
    image = np.full(y.shape, 0.06, dtype=np.float32)
    image[ellipse(y, x, (0.1, 0.0), (0.98, 0.88))] = 0.42
    image[lungs] = 0.14 + 0.03 * smooth_noise(rng, config.size, 0.01)[lungs]
    image[_heart(thorax, y, x)] = 0.55
    image[np.abs(x) < 0.055] = 0.62
    image += 0.13 * _ribs(thorax, y, x) * (image < 0.5)
    finding = _finding(thorax, label, atypical, y, x, lungs, rng)
    image += config.lesion_contrast * finding
    image += config.noise_std * rng.standard_normal(image.shape, dtype=np.float32)
    return (np.clip(image, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def _heart(thorax: Thorax, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return ellipse(y, x, (0.28, 0.08), thorax.heart_radii, angle=-0.3)


def _ribs(thorax: Thorax, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Soft 0..1 bands: each rib an arc that falls away from the spine."""
    arc = y - 0.35 * (np.abs(x) - 0.1) ** 2 + thorax.rib_phase
    bands = 0.5 + 0.5 * np.cos(2 * np.pi * arc / 0.16)
    return np.where((np.abs(x) > 0.06) & (np.abs(x) < 0.75) & (y > -0.7) & (y < 0.45), bands**6, 0.0)


def _consolidation(thorax: Thorax, y: np.ndarray, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """0..1: one dense, soft-edged consolidation in the middle or lower zone of one lung, or one in each."""
    side = rng.choice([-1.0, 1.0, 0.0])
    density = np.zeros(y.shape, dtype=np.float32)
    for lung in (-1.0, 1.0) if side == 0.0 else (side,):
        centre = (rng.uniform(-0.1, 0.2), lung * (thorax.lung_offset + rng.uniform(-0.05, 0.05)))
        distance = ellipse_radius(y, x, centre, (rng.uniform(0.15, 0.25), rng.uniform(0.12, 0.2)))
        density = np.maximum(density, np.clip(3.0 * (1.0 - distance), 0.0, 1.0))
    return density


def _finding(
    thorax: Thorax, label: str, atypical: bool, y: np.ndarray, x: np.ndarray, lungs: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Extra density 0..~1 inside the lungs for the class's finding (zeros for Normal)."""
    if label == "Normal" and not atypical:
        return np.zeros(y.shape, dtype=np.float32)
    size = y.shape[0]
    patches = np.clip(smooth_noise(rng, size, 0.035), 0.0, None)
    if atypical:
        zone = np.clip(-y - 0.1, 0.0, None) * 2.0  # upper zones, any class
        return 0.35 * lungs * zone * patches
    lower_zone = np.clip((y + 0.1) / 0.5, 0.0, 1.0)
    if label == "Lung_Opacity":
        return lungs * _consolidation(thorax, y, x, rng) * (0.6 + 0.4 * np.clip(patches, 0.0, 1.0))
    periphery = np.zeros(y.shape, dtype=np.float32)
    for side in (-1.0, 1.0):
        distance = ellipse_radius(y, x, (-0.05, side * thorax.lung_offset), thorax.lung_radii)
        periphery = np.maximum(periphery, np.clip((distance - 0.45) / 0.55, 0.0, 1.0))
    haze = 0.55 + 0.45 * np.clip(patches, 0.0, 1.0)
    return lungs * periphery * (0.3 + 0.7 * lower_zone) * haze * 0.8
