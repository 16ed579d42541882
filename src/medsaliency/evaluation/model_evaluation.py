"""Evaluate one explained model: PIC, statistics, localisation, marker share, sanity and the blurred strip.

:func:`evaluate_model` takes the attribute stage's :class:`~medsaliency.artifacts.MapsFile` and the
:class:`~medsaliency.model_source.ModelSource` of the model that made it, and returns a
:class:`ModelEvaluation`: the flat metrics of :mod:`medsaliency.evaluation.summary`, the PIC
results, the aggregated curves, the per-image table and the data of the paper's blurred-image
figure. The work that needs the model (PIC per image, the images without their marker, the
randomised model's maps) runs as :func:`evaluate_chunk` tasks on a
:class:`~medsaliency.compute.TaskRunner`, whole ``attribution.batch_size`` batches per task, so
the numbers do not depend on where the tasks ran; statistics and figures are computed here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from medsaliency.artifacts import MapsFile
from medsaliency.attribution.methods import compute_maps, image_seeds
from medsaliency.compute import TaskRunner, chunk_slices
from medsaliency.config import AttributionConfig, Params
from medsaliency.evaluation import localization
from medsaliency.evaluation.blur import random_pixel_mask, to_uint8
from medsaliency.evaluation.pic import CURVES, ImagePic, PicResults, PicSettings, aggregate, blurred_series, image_pic, pic_results
from medsaliency.evaluation.sanity import map_similarity
from medsaliency.evaluation.summary import per_image_table, pic_metrics, score_metrics, shortcut_metrics
from medsaliency.model_source import ModelSource, explained_model

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


@dataclass(frozen=True)
class EvaluationChunk:
    """The images of one task: ``images`` and ``clean_images`` ``[n, H, W, C]``, their ``maps`` ``[M, n, H, W]``,
    PIC's ``random_masks`` ``[n, H, W]``, ``labels`` and explained ``classes`` ``[n]``, attribution ``seeds`` ``[n]``."""

    images: np.ndarray
    clean_images: np.ndarray
    maps: np.ndarray
    random_masks: np.ndarray
    labels: np.ndarray
    classes: np.ndarray
    seeds: np.ndarray


@dataclass(frozen=True)
class ChunkEvaluation:
    """What a task measured with the model: per image its :class:`~medsaliency.evaluation.pic.ImagePic`,
    the probabilities ``[n, K]`` without the marker, and per sanity method the SSIM ``[n]``."""

    pic: list[ImagePic]
    without_marker: np.ndarray
    sanity: dict[str, np.ndarray]


def evaluate_model(maps: MapsFile, source: ModelSource, params: Params, mask_kind: str, runner: TaskRunner) -> ModelEvaluation:
    """PIC, statistics, localisation (lesion masks only), marker share and sanity of one maps file,
    with the model of ``source`` on ``runner``'s workers."""
    config = params.evaluation
    methods = maps.method_names
    masks = random_masks(maps.ids, maps.maps.shape[2:], params)
    chunks = evaluation_chunks(maps, masks, params)
    sanity = sanity_config(params, methods)
    label = f"{maps.model_name} v{maps.model_version}: evaluation"
    results = runner.map(
        evaluate_chunk, chunks, label, source=source, settings=pic_settings(params), methods=methods, sanity=sanity, sanity_seed=config.seed
    )
    pic = pic_results([image for result in results for image in result.pic], len(methods), pic_settings(params))
    metrics = pic_metrics(pic, methods, config)
    curves = {kind: aggregated_curves(pic, kind, methods, config.aggregate) for kind in CURVES}
    scores = saliency_scores(maps, mask_kind, config.top_fraction)
    scores["sanity_ssim"] = {m: np.concatenate([result.sanity[m] for result in results]) for m in sanity.methods}
    for name, by_method in scores.items():
        metrics.update(score_metrics(name, by_method, config, test_against_random=name != "sanity_ssim"))
    without_marker = np.concatenate([result.without_marker for result in results])
    metrics.update(shortcut_metrics(maps.labels, maps.probabilities, without_marker, maps.marker_planted))
    table = per_image_table(maps.ids, maps.labels, maps.explained_class, methods, pic, scores)
    return ModelEvaluation(metrics, pic, curves, table, blurred_strip_data(maps, pic, masks, params))


def evaluation_chunks(maps: MapsFile, masks: np.ndarray, params: Params) -> list[EvaluationChunk]:
    """The maps file cut into tasks of ``compute.batches_per_task`` x ``attribution.batch_size`` images."""
    seeds = image_seeds(params.attribution.seed, maps.ids)
    size = params.attribution.batch_size * params.compute.batches_per_task
    return [
        EvaluationChunk(
            maps.images[part],
            maps.clean_images[part],
            maps.maps[:, part],
            masks[part],
            maps.labels[part],
            maps.explained_class[part],
            seeds[part],
        )
        for part in chunk_slices(len(maps.ids), size)
    ]


def sanity_config(params: Params, methods: list[str]) -> AttributionConfig:
    """``attribution`` restricted to the sanity methods that the maps file has."""
    return params.attribution.model_copy(update={"methods": [m for m in params.evaluation.sanity_methods if m in methods]})


def evaluate_chunk(
    chunk: EvaluationChunk, source: ModelSource, settings: PicSettings, methods: list[str], sanity: AttributionConfig, sanity_seed: int
) -> ChunkEvaluation:
    """One task: PIC of each image, probabilities without the marker, and the maps of the model randomised
    with ``sanity_seed`` compared (SSIM) with the trained model's, for ``sanity.methods``."""
    explained = explained_model(source)
    per_image = [
        image_pic(
            chunk.images[i], chunk.maps[:, i], chunk.random_masks[i], chunk.labels[i], chunk.classes[i], explained.probabilities, settings
        )
        for i in range(len(chunk.images))
    ]
    without_marker = explained.probabilities(chunk.clean_images, sanity.batch_size)
    similarity = {}
    if sanity.methods:
        randomized = explained_model(source.randomized(sanity_seed))
        random_maps = compute_maps(randomized, chunk.images, chunk.classes, sanity, chunk.seeds).maps
        similarity = {m: map_similarity(chunk.maps[methods.index(m)], random_maps[m]) for m in sanity.methods}
    return ChunkEvaluation(per_image, without_marker, similarity)


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


def blurred_strip_data(maps: MapsFile, pic: PicResults, masks: np.ndarray, params: Params) -> Strip | None:
    """The paper's appendix figure data for the first image SIC kept: per method, the blurred image
    at up to ``STRIP_THRESHOLDS`` thresholds and the explained class's probability on it (from PIC)."""
    kept = np.flatnonzero(~np.isnan(pic.auc["sic"]).any(axis=0))
    if not len(kept):
        return None
    n, thresholds = int(kept[0]), list(params.evaluation.thresholds)
    chosen = np.linspace(0, len(thresholds) - 1, min(STRIP_THRESHOLDS, len(thresholds))).round().astype(int)
    shown = tuple(thresholds[i] for i in chosen)
    series = blurred_series(to_uint8(maps.images[n]), maps.maps[:, n], masks[n], shown, params.evaluation.entropy)
    images = series.images.reshape(len(maps.methods), len(shown), *series.images.shape[1:])
    return Strip(str(maps.ids[n]), images, pic.sic_scores[:, n][:, chosen], list(shown))
