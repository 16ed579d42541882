"""Figures of the statistics over replicates (PNG): what a reader takes in before the tables.

- :func:`mean_rank_heatmap`: methods x measures, each method's mean rank over the models;
- :func:`forest_plots`: per measure, each method's mean with its 95% interval over models, patients
  and images, Random's mean as the reference line;
- :func:`critical_difference_diagrams`: Demšar's diagram per measure (drawn by ``scikit-posthocs``).

:func:`replicate_figures` draws all three for one explained model's :class:`MeasureStatistics`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medsaliency.attribution.methods import LABELS
from medsaliency.evaluation.measures import MEASURES, REFERENCE_METHOD
from medsaliency.evaluation.replicates import MeasureStatistics
from medsaliency.reporting.figures import pyplot, save
from medsaliency.reporting.tables import by_mean_rank

FOREST_COLUMNS = 3


def replicate_figures(name: str, statistics: dict[str, MeasureStatistics], folder: Path) -> list[str]:
    """Draw ``name``'s mean-rank heatmap, forest plots and critical-difference diagrams under
    ``folder/figures``; returns their paths relative to ``folder``, in that order."""
    first = next(iter(statistics.values()))
    models = first.replicates
    paths = [Path("figures") / f"{name}.replicates.{kind}.png" for kind in ("ranks", "forest", "cd")]
    ranks = np.stack([[stats.mean_rank[stats.methods.index(m)] for m in first.ranked] for stats in statistics.values()], axis=1)
    titles = [MEASURES[measure].label for measure in statistics]
    mean_rank_heatmap(ranks, titles, [LABELS.get(m, m) for m in first.ranked], f"{name}: mean rank over {models} models", folder / paths[0])
    forest_plots(statistics, f"{name}: mean and 95% interval over {models} models, patients and images", folder / paths[1])
    diagrams = {
        MEASURES[measure].title: ({LABELS.get(m, m): float(stats.mean_rank[stats.methods.index(m)]) for m in stats.ranked}, stats.nemenyi)
        for measure, stats in statistics.items()
    }
    critical_difference_diagrams(
        diagrams, f"{name}: critical differences (Nemenyi after Friedman, p < 0.05) over {models} models", folder / paths[2]
    )
    return [path.as_posix() for path in paths]


def forest_plots(statistics: dict[str, MeasureStatistics], title: str, path: Path) -> Path:
    """One panel per measure: each method's mean (dot) and 95% interval (bar), best mean rank on top,
    Random (the reference, if scored) last and drawn as a dashed line through its mean."""
    plt = pyplot()
    rows = -(-len(statistics) // FOREST_COLUMNS)
    methods = len(next(iter(statistics.values())).methods)
    figure, axes = plt.subplots(rows, FOREST_COLUMNS, figsize=(3.4 * FOREST_COLUMNS, (0.2 * methods + 0.9) * rows + 0.4), squeeze=False)
    for axis, (measure, stats) in zip(axes.flat, statistics.items(), strict=False):  # spare panels hidden below
        order = by_mean_rank(stats)
        index = [stats.methods.index(m) for m in order]
        y = np.arange(len(order))[::-1]
        mean, low, high = stats.mean[index], stats.low[index], stats.high[index]
        axis.errorbar(mean, y, xerr=[mean - low, high - mean], fmt="o", markersize=3, capsize=2, linewidth=1, color="tab:blue")
        if REFERENCE_METHOD in stats.methods:
            axis.axvline(stats.mean[stats.methods.index(REFERENCE_METHOD)], color="grey", linestyle="--", linewidth=0.8)
        axis.set_yticks(y, [LABELS.get(m, m) for m in order], fontsize=6)
        axis.tick_params(axis="x", labelsize=6)
        axis.set_title(MEASURES[measure].title, fontsize=7)
        axis.grid(axis="x", alpha=0.3)
    for axis in list(axes.flat)[len(statistics) :]:
        axis.set_visible(False)
    figure.suptitle(title, fontsize=9)
    return save(figure, path)


def mean_rank_heatmap(mean_ranks: np.ndarray, measures: list[str], methods: list[str], title: str, path: Path) -> Path:
    """Methods (rows) x measures (columns): each method's mean rank over the replicates (1 = best), annotated.

    ``mean_ranks`` ``[M, Q]`` (NaN: not scored)."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(0.9 * len(measures) + 2.6, 0.38 * len(methods) + 1.4))
    image = axis.imshow(mean_ranks, cmap="viridis_r", aspect="auto", vmin=1, vmax=len(methods))
    for (row, column), value in np.ndenumerate(mean_ranks):
        if np.isfinite(value):
            axis.text(
                column, row, f"{value:.1f}", ha="center", va="center", fontsize=7, color="white" if value > len(methods) / 2 else "black"
            )
    axis.set_xticks(range(len(measures)), measures, rotation=40, ha="right", fontsize=7)
    axis.set_yticks(range(len(methods)), methods, fontsize=7)
    axis.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axis, label="mean rank (1 = best)")
    return save(figure, path)


def critical_difference_diagrams(diagrams: dict[str, tuple[dict[str, float], np.ndarray]], title: str, path: Path) -> Path:
    """One critical-difference diagram (Demšar 2006, drawn by ``scikit-posthocs``) per measure:
    ``diagrams[measure] = (method label -> mean rank, Nemenyi p-values [M, M] in that order)``;
    methods joined by a bar are not told apart at p < 0.05."""
    import pandas as pd
    import scikit_posthocs

    plt = pyplot()
    shown = {name: value for name, value in diagrams.items() if np.isfinite(value[1]).all()}
    figure, axes = plt.subplots(len(shown), 1, figsize=(8.0, 1.9 * len(shown) + 0.4), squeeze=False)
    for axis, (measure, (ranks, p_values)) in zip(axes[:, 0], shown.items(), strict=True):
        names = list(ranks)
        scikit_posthocs.critical_difference_diagram(
            pd.Series(ranks), pd.DataFrame(p_values, index=names, columns=names), ax=axis, label_props={"fontsize": 7}
        )
        axis.set_title(measure, fontsize=8)
    figure.suptitle(title, fontsize=9)
    return save(figure, path)
