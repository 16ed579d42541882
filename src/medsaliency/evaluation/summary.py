"""One model's evaluation as numbers: the flat metrics that MLflow and DVC show, and the per-image table.

Metric names are ``<measure>.<method>`` so the MLflow compare view lines methods and models up:
``aic_auc`` / ``sic_auc`` (aggregate curve of ``evaluation.aggregate``), ``aic_auc_mean`` /
``sic_auc_mean`` (mean curve), ``aic_auc_ci_low`` / ``aic_auc_ci_high`` (and SIC: bootstrap
interval), ``aic_p_vs_random`` / ``sic_p_vs_random`` (Holm-adjusted Wilcoxon), localisation
``pointing_game``, ``mass_in_mask``, ``top_iou`` (means over images with a lesion) and
``marker_mass`` (share of positive saliency on the class-coded marker region), the faithfulness
measures ``insertion_auc`` / ``deletion_auc`` (:mod:`.insertion_deletion`) and ``road_morf`` /
``road_lerf`` / ``road_gap`` (:mod:`.road`), each with ``_ci_low`` / ``_ci_high`` and
``_p_vs_random``; ``sanity_ssim`` and ``random_logit_ssim`` (mean SSIM, with its interval),
``sparseness`` and ``complexity`` (:mod:`.complexity`, with intervals, untested: they have no
better direction); ``reactivity.<measure>.<method>`` (:mod:`.reactivity`, computed in
:mod:`.model_evaluation`); ``shortcut.accuracy_with_marker`` / ``_without_marker``;
``excluded.<curve>.<reason>``, ``n_images``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsaliency.config import EvaluationConfig
from medsaliency.evaluation.measures import REFERENCE_METHOD
from medsaliency.evaluation.pic import CURVES, EXCLUSION_REASONS, PicResults, aggregate
from medsaliency.evaluation.stats import bootstrap_auc_interval, bootstrap_mean_interval, wilcoxon_against


def pic_metrics(pic: PicResults, methods: list[str], config: EvaluationConfig, patients: np.ndarray) -> dict[str, float]:
    """AUCs of both aggregations, bootstrap intervals and tests against Random over ``patients``
    (the patient of each image, ``[N]``), exclusion counts."""
    metrics: dict[str, float] = {"n_images": float(pic.auc["aic"].shape[1])}
    rng = np.random.default_rng(config.bootstrap.seed)
    for kind in CURVES:
        for m, method in enumerate(methods):
            curves = pic.curves[kind][m]
            metrics[f"{kind}_auc.{method}"] = aggregate(curves, pic.x, config.aggregate)[1]
            metrics[f"{kind}_auc_mean.{method}"] = aggregate(curves, pic.x, "mean")[1]
            low, high = bootstrap_auc_interval(
                curves, pic.x, config.aggregate, config.bootstrap.resamples, config.bootstrap.confidence, rng, patients
            )
            metrics[f"{kind}_auc_ci_low.{method}"], metrics[f"{kind}_auc_ci_high.{method}"] = low, high
        if REFERENCE_METHOD in methods:
            for method, p_value in wilcoxon_against(pic.auc[kind], methods, REFERENCE_METHOD, patients).items():
                metrics[f"{kind}_p_vs_random.{method}"] = p_value
        for reason in EXCLUSION_REASONS:
            metrics[f"excluded.{kind}.{reason}"] = float(pic.excluded[kind][reason])
    return metrics


def score_metrics(
    name: str, scores: dict[str, np.ndarray], config: EvaluationConfig, test_against_random: bool, patients: np.ndarray
) -> dict[str, float]:
    """Per-image ``scores`` (method -> ``[N]``, NaN = no score) of images of ``patients`` ``[N]`` as
    ``<name>.<method>`` (mean over images), ``<name>_ci_low`` / ``<name>_ci_high`` (bootstrap interval
    of the mean, patients resampled) and, with ``test_against_random``, ``<name>_p_vs_random``
    (Holm-adjusted Wilcoxon over patients)."""
    metrics: dict[str, float] = {}
    rng = np.random.default_rng(config.bootstrap.seed)
    for method, values in scores.items():
        metrics[f"{name}.{method}"] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        low, high = bootstrap_mean_interval(values, config.bootstrap.resamples, config.bootstrap.confidence, rng, patients)
        metrics[f"{name}_ci_low.{method}"], metrics[f"{name}_ci_high.{method}"] = low, high
    if test_against_random and REFERENCE_METHOD in scores:
        methods = list(scores)
        for method, p_value in wilcoxon_against(np.stack([scores[m] for m in methods]), methods, REFERENCE_METHOD, patients).items():
            metrics[f"{name}_p_vs_random.{method}"] = p_value
    return metrics


def shortcut_metrics(labels: np.ndarray, with_marker: np.ndarray, without_marker: np.ndarray, planted: bool) -> dict[str, float]:
    """Accuracy of the explained model on its test images as explained (``with_marker``
    probabilities ``[N, K]``) and with the marker removed (``without_marker``); equal when no
    shortcut was ``planted``. A model that learnt the shortcut loses accuracy without it."""
    return {
        "shortcut.planted": float(planted),
        "shortcut.accuracy_with_marker": float(np.mean(with_marker.argmax(axis=1) == labels)),
        "shortcut.accuracy_without_marker": float(np.mean(without_marker.argmax(axis=1) == labels)),
    }


def per_image_table(
    ids: np.ndarray, labels: np.ndarray, classes: np.ndarray, methods: list[str], pic: PicResults, scores: dict[str, dict[str, np.ndarray]]
) -> pd.DataFrame:
    """One row per (image, method): AUCs and every per-image score (``scores[name][method]`` ``[N]``)."""
    rows = []
    for m, method in enumerate(methods):
        for n, image_id in enumerate(ids):
            row = {"id": str(image_id), "label": int(labels[n]), "explained_class": int(classes[n]), "method": method}
            row.update({f"{kind}_auc": pic.auc[kind][m, n] for kind in CURVES})
            row.update({name: by_method[method][n] for name, by_method in scores.items() if method in by_method})
            rows.append(row)
    return pd.DataFrame(rows)
