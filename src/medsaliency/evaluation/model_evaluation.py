"""Evaluate one explained model: PIC, statistics, localisation, marker share, sanity and the blurred strip.

:func:`evaluate_model` takes the attribute stage's :class:`~medsaliency.artifacts.MapsFile` and the
model that made it, and returns a :class:`ModelEvaluation`: the flat metrics of
:mod:`medsaliency.evaluation.summary`, the PIC results, the aggregated curves, the per-image
table and the data of the paper's blurred-image figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from medsaliency.artifacts import MapsFile
from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.attribution.methods import compute_maps, image_seeds
from medsaliency.config import Params
from medsaliency.evaluation import localization
from medsaliency.evaluation.blur import from_uint8, random_pixel_mask, to_uint8
from medsaliency.evaluation.pic import CURVES, PicResults, PicSettings, aggregate, blurred_series, compute_pic
from medsaliency.evaluation.sanity import map_similarity, randomized_copy
from medsaliency.evaluation.summary import per_image_table, pic_metrics, score_metrics, shortcut_metrics

STRIP_THRESHOLDS = 7


@dataclass(frozen=True)
class Strip:
    """Blurred images ``[M, T, H, W(, C)]`` of one image at ``thresholds`` and their ``scores`` ``[M, T]``."""

    image_id: str
    images: np.ndarray
    scores: np.ndarray
    thresholds: list[float]


@dataclass(frozen=True)
class ModelEvaluation:
    """Everything measured for one model: flat ``metrics``, the PIC results, the aggregated ``curves``
    (curve kind -> method -> ``[P+1]``, by ``evaluation.aggregate``), the per-image table, the strip."""

    metrics: dict[str, float]
    pic: PicResults
    curves: dict[str, dict[str, np.ndarray]]
    table: pd.DataFrame
    strip: Strip | None


def evaluate_model(maps: MapsFile, model, params: Params, mask_kind: str, progress=None) -> ModelEvaluation:
    """PIC, statistics, localisation (lesion masks only), marker share and sanity of one maps file.

    ``model``: the ``keras.Model`` that made the maps; ``progress(image_index)`` is called per image.
    """
    config = params.evaluation
    methods = maps.method_names
    explained = ExplainedModel(model, maps.target_layer)
    masks = random_masks(maps.ids, maps.maps.shape[2:], params)
    pic = compute_pic(
        maps.images,
        maps.maps,
        maps.labels,
        maps.explained_class,
        explained.probabilities,
        pic_settings(params),
        masks,
        workers=config.workers,
        progress=progress,
    )
    metrics = pic_metrics(pic, methods, config)
    curves = {kind: aggregated_curves(pic, kind, methods, config.aggregate) for kind in CURVES}
    scores = saliency_scores(maps, mask_kind, config.top_fraction)
    scores["sanity_ssim"] = sanity_scores(model, maps, params)
    for name, by_method in scores.items():
        metrics.update(score_metrics(name, by_method, config, test_against_random=name != "sanity_ssim"))
    without_marker = explained.probabilities(maps.clean_images)
    metrics.update(shortcut_metrics(maps.labels, maps.probabilities, without_marker, maps.marker_planted))
    table = per_image_table(maps.ids, maps.labels, maps.explained_class, methods, pic, scores)
    return ModelEvaluation(metrics, pic, curves, table, blurred_strip_data(explained, maps, pic, masks, params))


def pic_settings(params: Params) -> PicSettings:
    config = params.evaluation
    return PicSettings(
        tuple(config.thresholds),
        config.entropy,
        config.random_mask_fraction,
        config.min_pred_value,
        config.keep_monotonous,
        config.num_points,
    )


def random_masks(ids: np.ndarray, shape: tuple[int, int], params: Params) -> np.ndarray:
    """One seeded random pixel mask ``[N, H, W]`` per image (by its id), shared by every method and model."""
    seeds = image_seeds(params.evaluation.seed, ids)
    fraction = params.evaluation.random_mask_fraction
    return np.stack([random_pixel_mask(*shape, fraction, np.random.default_rng(int(seed))) for seed in seeds])


def aggregated_curves(pic: PicResults, kind: str, methods: list[str], how: str) -> dict[str, np.ndarray]:
    """Method -> the ``how`` (median or mean) curve over images of one curve kind."""
    return {method: aggregate(pic.curves[kind][m], pic.x, how)[0] for m, method in enumerate(methods)}


def saliency_scores(maps: MapsFile, mask_kind: str, top_fraction: float) -> dict[str, dict[str, np.ndarray]]:
    """Per-image localisation scores against lesion masks (``mask_kind == "lesion"`` only) and the
    share of saliency on the marker region: measure -> method -> ``[N]``."""
    measures = {"marker_mass": lambda saliency: localization.mass_in_mask(saliency, maps.markers)}
    if mask_kind == "lesion":
        measures = {
            "pointing_game": lambda saliency: localization.pointing_game(saliency, maps.masks),
            "mass_in_mask": lambda saliency: localization.mass_in_mask(saliency, maps.masks),
            "top_iou": lambda saliency: localization.top_fraction_iou(saliency, maps.masks, top_fraction),
            **measures,
        }
    return {name: {m: measure(maps.maps[i]) for i, m in enumerate(maps.method_names)} for name, measure in measures.items()}


def sanity_scores(model, maps: MapsFile, params: Params) -> dict[str, np.ndarray]:
    """SSIM ``[N]`` per sanity method between the trained model's maps and the randomised model's."""
    methods = maps.method_names
    chosen = [m for m in params.evaluation.sanity_methods if m in methods]
    if not chosen:
        return {}
    randomized = ExplainedModel(randomized_copy(model, params.evaluation.seed), maps.target_layer)
    config = params.attribution.model_copy(update={"methods": chosen})
    seeds = image_seeds(params.attribution.seed, maps.ids)
    random_maps = compute_maps(randomized, maps.images, maps.explained_class, config, seeds).maps
    return {m: map_similarity(maps.maps[methods.index(m)], random_maps[m]) for m in chosen}


def blurred_strip_data(explained: ExplainedModel, maps: MapsFile, pic: PicResults, masks: np.ndarray, params: Params) -> Strip | None:
    """The paper's appendix figure data for the first image SIC kept: per method, the blurred image
    at up to ``STRIP_THRESHOLDS`` thresholds and the explained class's probability on it."""
    kept = np.flatnonzero(~np.isnan(pic.auc["sic"]).any(axis=0))
    if not len(kept):
        return None
    n, thresholds = int(kept[0]), list(params.evaluation.thresholds)
    chosen = np.linspace(0, len(thresholds) - 1, min(STRIP_THRESHOLDS, len(thresholds))).round().astype(int)
    shown = tuple(thresholds[i] for i in chosen)
    series = blurred_series(to_uint8(maps.images[n]), maps.maps[:, n], masks[n], shown, params.evaluation.entropy)
    scores = explained.probabilities(from_uint8(series.images, maps.images.shape[-1]))[:, int(maps.explained_class[n])]
    images = series.images.reshape(len(maps.methods), len(shown), *series.images.shape[1:])
    return Strip(str(maps.ids[n]), images, scores.reshape(images.shape[:2]), list(shown))
