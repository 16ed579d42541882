"""Matplotlib figures (PNG, Agg backend): the paper's heatmap grid.

Maps are shown per map on ``[0, 99th percentile]`` (PAIR's display convention), so one
outlier pixel does not wash a map out; the stored maps are never rescaled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def heatmap_grid(
    images: np.ndarray, masks: np.ndarray | None, maps: dict[str, np.ndarray], column_titles: dict[str, str], row_titles: list[str], path: Path, mask_label: str = "mask"
) -> Path:
    """Rows = images, columns = the input (with the ``masks`` contour in red) then one map per method.

    ``images``: ``[N, H, W, C]`` in [0, 1]; ``masks``: ``[N, H, W]`` (or None); ``maps``:
    method -> ``[N, H, W]``. Written to ``path`` as a PNG; returns ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, columns = len(images), len(maps) + 1
    figure, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.7 * rows), squeeze=False)
    for row in range(rows):
        gray = images[row].mean(axis=-1)
        axes[row, 0].imshow(gray, cmap="gray", vmin=0, vmax=1)
        axes[row, 0].set_ylabel(row_titles[row], fontsize=7)
        for column, (method, method_maps) in enumerate(maps.items(), start=1):
            axes[row, column].imshow(gray, cmap="gray", vmin=0, vmax=1)
            axes[row, column].imshow(_display_range(method_maps[row]), cmap="jet", alpha=0.55, vmin=0, vmax=1)
            if row == 0:
                axes[row, column].set_title(column_titles.get(method, method), fontsize=8)
        if masks is not None and masks[row].any():
            for column in range(columns):
                axes[row, column].contour(masks[row], levels=[0.5], colors="red", linewidths=0.7)
    axes[0, 0].set_title(f"input ({mask_label} in red)" if masks is not None else "input", fontsize=8)
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _display_range(saliency: np.ndarray) -> np.ndarray:
    """``saliency`` scaled to [0, 1] by its minimum and 99th percentile (constant maps become 0)."""
    low, high = float(saliency.min()), float(np.percentile(saliency, 99))
    if high <= low:
        return np.zeros_like(saliency)
    return np.clip((saliency - low) / (high - low), 0, 1)
