"""Matplotlib figures (PNG, Agg backend): the paper's heatmap grid, information curves, blurred strips.

Maps are shown per map on ``[0, 99th percentile]`` (PAIR's display convention), so one
outlier pixel does not wash a map out; the stored maps are never rescaled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def heatmap_grid(
    images: np.ndarray,
    masks: np.ndarray | None,
    maps: dict[str, np.ndarray],
    column_titles: dict[str, str],
    row_titles: list[str],
    path: Path,
    mask_label: str = "mask",
) -> Path:
    """Rows = images, columns = the input (with the ``masks`` contour in red) then one map per method.

    ``images``: ``[N, H, W, C]`` in [0, 1]; ``masks``: ``[N, H, W]`` (or None); ``maps``:
    method -> ``[N, H, W]``. Written to ``path`` as a PNG; returns ``path``.
    """
    plt = pyplot()

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
    return save(figure, path)


def _display_range(saliency: np.ndarray) -> np.ndarray:
    """``saliency`` scaled to [0, 1] by its minimum and 99th percentile (constant maps become 0)."""
    low, high = float(saliency.min()), float(np.percentile(saliency, 99))
    if high <= low:
        return np.zeros_like(saliency)
    return np.clip((saliency - low) / (high - low), 0, 1)


def information_curves(
    x: np.ndarray, curves: dict[str, np.ndarray], aucs: dict[str, float], labels: dict[str, str], title: str, path: Path
) -> Path:
    """The paper's aggregated AIC/SIC figure: one line per method, its AUC in the legend."""
    plt = pyplot()

    figure, axis = plt.subplots(figsize=(6.4, 4.8))
    for method, y in curves.items():
        dashes = (4, 2) if method == "random" else ()
        axis.plot(x, y, label=f"{labels.get(method, method)} (AUC={aucs[method]:.3f})", linewidth=1.4, dashes=dashes)
    axis.set(xlabel="normalised information (entropy)", ylabel="normalised performance", title=title, xlim=(0, 1), ylim=(0, 1.02))
    axis.legend(fontsize=7, loc="lower right")
    axis.grid(alpha=0.3)
    return save(figure, path)


def removal_curves(
    panels: dict[str, tuple[np.ndarray, dict[str, np.ndarray], str]], labels: dict[str, str], title: str, path: Path
) -> Path:
    """One panel per curve kind (insertion, deletion, ROAD MoRF / LeRF): ``panels`` title ->
    ``(x [P], method -> mean curve [P], x label)``, the explained class's probability on the y axis."""
    plt = pyplot()

    figure, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.6), squeeze=False, sharey=True)
    for axis, (panel, (x, curves, xlabel)) in zip(axes[0], panels.items(), strict=True):
        for method, y in curves.items():
            axis.plot(x, y, label=labels.get(method, method), linewidth=1.2, dashes=(4, 2) if method == "random" else ())
        axis.set(title=panel, xlabel=xlabel, ylim=(0, 1.02))
        axis.grid(alpha=0.3)
    axes[0, 0].set_ylabel("probability of the explained class (mean over images)")
    axes[0, -1].legend(fontsize=6, loc="best")
    figure.suptitle(title, fontsize=9)
    return save(figure, path)


def cascading_similarity(steps: dict[str, dict[str, float]], labels: dict[str, str], title: str, path: Path) -> Path:
    """The cascading randomisation: x = the layers randomised from the top down (cumulative), y = the
    mean SSIM of each method's maps with the trained model's; ``steps``: step label -> method -> SSIM."""
    plt = pyplot()

    names = list(steps)
    methods = list(steps[names[0]])
    figure, axis = plt.subplots(figsize=(1.0 * len(names) + 3.0, 4.0))
    for method in methods:
        axis.plot(range(len(names)), [steps[name][method] for name in names], marker="o", label=labels.get(method, method))
    axis.set_xticks(range(len(names)), [name.split("_", 1)[1] for name in names], rotation=45, ha="right", fontsize=7)
    axis.set(title=title, xlabel="randomised from the top down to this layer", ylabel="SSIM with the trained model's maps", ylim=(0, 1.02))
    axis.legend(fontsize=7)
    axis.grid(alpha=0.3)
    return save(figure, path)


def blurred_strip(images: np.ndarray, scores: np.ndarray, thresholds: list[float], row_labels: list[str], title: str, path: Path) -> Path:
    """Rows = methods, columns = thresholds: the blurred image each threshold reveals, with its score.

    ``images`` uint8 ``[M, T, H, W(, C)]``, ``scores`` ``[M, T]`` (the explained class's softmax).
    """
    plt = pyplot()

    rows, columns = scores.shape
    figure, axes = plt.subplots(rows, columns, figsize=(1.2 * columns, 1.3 * rows + 0.4), squeeze=False)
    for row in range(rows):
        for column in range(columns):
            axis = axes[row, column]
            axis.imshow(images[row, column], cmap="gray", vmin=0, vmax=255)
            axis.set_title(f"t={thresholds[column]:g}\n{scores[row, column]:.2f}", fontsize=6)
            axis.set_xticks([])
            axis.set_yticks([])
        axes[row, 0].set_ylabel(row_labels[row], fontsize=7)
    figure.suptitle(title, fontsize=9)
    return save(figure, path)


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(figure, path: Path) -> Path:
    """Write ``figure`` to ``path`` (PNG, 110 dpi, parents created), close it; returns ``path``."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
