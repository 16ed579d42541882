"""Evaluate one explained model: PIC, the other faithfulness measures, statistics, localisation, marker share, sanity.

:func:`evaluate_model` takes the attribute stage's :class:`~medsaliency.io.artifacts.MapsFile` and the
:class:`~medsaliency.attribution.explained_model.ModelSource` of the model that made it, and returns a
:class:`ModelEvaluation`: the flat metrics of :mod:`medsaliency.evaluation.summary`, the PIC
results, the aggregated curves, the per-image table and the data of the paper's blurred-image
figure. The work that needs the model (PIC, insertion/deletion and ROAD per image, the images
without their marker, the randomised model's maps and the maps for a random other class) runs as
:func:`evaluate_chunk` tasks on a
:class:`~medsaliency.compute.TaskRunner`, whole ``attribution.batch_size`` batches per task, so
the numbers do not depend on where the tasks ran; statistics and figures are computed here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from medsaliency.attribution.batching import consecutive_slices
from medsaliency.attribution.explained_model import ExplainedModel, ModelSource
from medsaliency.attribution.methods import compute_maps, image_seeds
from medsaliency.compute import TaskRunner
from medsaliency.config import AttributionConfig, EvaluationConfig, Params
from medsaliency.evaluation.blur import random_pixel_mask, to_uint8
from medsaliency.evaluation.insertion_deletion import ImageInsertionDeletion, InsertionDeletionSettings, image_insertion_deletion
from medsaliency.evaluation.measures import MEASURES, MapInputs
from medsaliency.evaluation.pic import CURVES, ImagePic, PicResults, PicSettings, aggregate, blurred_series, image_pic, pic_results
from medsaliency.evaluation.pixel_order import tie_break
from medsaliency.evaluation.road import ORDERS, ImageRoad, RoadSettings, image_road
from medsaliency.evaluation.sanity import cascade_steps, map_similarity, randomization_blocks, randomization_sample
from medsaliency.evaluation.summary import per_image_table, pic_metrics, score_metrics, shortcut_metrics
from medsaliency.io.artifacts import MapsFile

STRIP_THRESHOLDS = 7
CASCADING = "cascading_ssim"  # one score per step: cascading_ssim.<k>_<layer>
# The measures that explain images again, on the sample only (their cost is per sampled image).
REEXPLAINING = ("sanity", "random_logit", "cascading")
# Independent random streams drawn from one image's evaluation seed (the random pixel mask uses the seed itself).
ROAD_STREAM, RANDOM_LOGIT_STREAM, TIE_STREAM = 1, 2, 3


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
    (curve kind -> method -> ``[P+1]``, by ``evaluation.aggregate``), the per-image table, the strip,
    the mean :class:`RemovalCurves` of insertion, deletion and ROAD (those computed), the cascading
    check's mean SSIM (step ``<k>_<layer>`` -> method -> SSIM, top step first), and each measure's
    cost in wall seconds per image (summed over tasks: CPU-seconds of the workers)."""

    metrics: dict[str, float]
    pic: PicResults
    curves: dict[str, dict[str, np.ndarray]]
    table: pd.DataFrame
    strip: Strip | None
    removal: dict[str, RemovalCurves]
    cascading: dict[str, dict[str, float]]
    seconds_per_image: dict[str, float]


@dataclass(frozen=True)
class RemovalCurves:
    """One removal curve kind: the x axis ``[P]`` (share of the pixels, 0 to 1) and per method the
    explained class's probability ``[P]``, mean over images."""

    x: np.ndarray
    by_method: dict[str, np.ndarray]


@dataclass(frozen=True)
class EvaluationChunk:
    """The images of one task: ``images`` and ``clean_images`` ``[n, H, W, C]``, their ``maps`` ``[M, n, H, W]``,
    PIC's ``random_masks`` ``[n, H, W]``, ``labels`` and explained ``classes`` ``[n]``, attribution ``seeds``
    and ``evaluation_seeds`` ``[n]`` (per image, from its id), and ``sample`` (bool ``[n]``): the images
    that the re-attribution tests explain again (:func:`~medsaliency.evaluation.sanity.randomization_sample`)."""

    images: np.ndarray
    clean_images: np.ndarray
    maps: np.ndarray
    random_masks: np.ndarray
    labels: np.ndarray
    classes: np.ndarray
    seeds: np.ndarray
    evaluation_seeds: np.ndarray
    sample: np.ndarray


@dataclass(frozen=True)
class TaskSettings:
    """What every task needs besides its images: the maps' ``methods``, PIC's settings, the sanity
    methods (``sanity``, an ``attribution`` config), the seed of the randomised model, the optional
    curves, whether to run RandomLogit, the cascading check's methods (``cascading``, None: off) and
    steps, and ``batch_size`` (model inputs per call)."""

    methods: list[str]
    pic: PicSettings
    sanity: AttributionConfig
    sanity_seed: int
    insertion_deletion: InsertionDeletionSettings | None
    road: RoadSettings | None
    random_logit: bool
    cascading: AttributionConfig | None
    cascading_max_steps: int
    batch_size: int


@dataclass(frozen=True)
class ChunkEvaluation:
    """What a task measured with the model, per image: :class:`~medsaliency.evaluation.pic.ImagePic`,
        insertion/deletion and ROAD curves (empty lists when off), the probabilities ``[n, K]`` without
        the marker; per sanity method the SSIM ``[n]`` with the randomised model and (``random_logit``)
        with the maps of a random other class; per cascading step (``<k>_<layer>``: the top ``k`` blocks
    randomised, down to ``layer``) and method the SSIM ``[n]``; ``seconds`` per measure (wall, whole task)."""

    pic: list[ImagePic]
    insertion_deletion: list[ImageInsertionDeletion]
    road: list[ImageRoad]
    without_marker: np.ndarray
    sanity: dict[str, np.ndarray]
    random_logit: dict[str, np.ndarray]
    cascading: dict[str, dict[str, np.ndarray]]
    seconds: dict[str, float]


def evaluate_model(maps: MapsFile, source: ModelSource, params: Params, mask_kind: str, runner: TaskRunner) -> ModelEvaluation:
    """PIC, insertion/deletion, ROAD, statistics, localisation (lesion masks only), marker share,
    sparseness/complexity, sanity and RandomLogit of one maps file, with the model of ``source`` on
    ``runner``'s workers."""
    config = params.evaluation
    methods = maps.method_names
    masks = random_masks(maps.ids, maps.maps.shape[2:], params)
    chunks = evaluation_chunks(maps, masks, params)
    settings = task_settings(params, methods)
    label = f"{maps.model_name} v{maps.model_version}: evaluation"
    results = runner.map(evaluate_chunk, chunks, label, source=source, settings=settings)
    pic = pic_results([image for result in results for image in result.pic], len(methods), settings.pic)
    metrics = pic_metrics(pic, methods, config, maps.patient_ids)
    curves = {kind: aggregated_curves(pic, kind, methods, config.aggregate) for kind in CURVES}
    scores = {**saliency_scores(maps, mask_kind, config), **faithfulness_scores(results, settings)}
    for name, by_method in scores.items():
        tested = not name.startswith(CASCADING) and MEASURES[name].tested_against_random
        metrics.update(score_metrics(name, by_method, config, tested, maps.patient_ids))
    without_marker = np.concatenate([result.without_marker for result in results])
    metrics.update(shortcut_metrics(maps.labels, maps.probabilities, without_marker, maps.marker_planted))
    table = per_image_table(maps.ids, maps.labels, maps.explained_class, methods, pic, scores)
    sampled = sum(int(chunk.sample.sum()) for chunk in chunks)
    metrics["n_randomization_images"] = float(sampled)
    cost = {
        name: sum(result.seconds.get(name, 0.0) for result in results) / (sampled if name in REEXPLAINING else len(maps.ids))
        for name in results[0].seconds
    }
    strip = blurred_strip_data(maps, pic, masks, params)
    cascading = {
        step.split(".", 1)[1]: {m: float(np.nanmean(v)) for m, v in by_method.items()}
        for step, by_method in scores.items()
        if step.startswith(f"{CASCADING}.")
    }
    return ModelEvaluation(metrics, pic, curves, table, strip, removal_curves(results, settings), cascading, cost)


def evaluation_chunks(maps: MapsFile, masks: np.ndarray, params: Params) -> list[EvaluationChunk]:
    """The maps file cut into tasks of ``compute.images_per_task`` images."""
    seeds = image_seeds(params.attribution.seed, maps.ids)
    evaluation_seeds = image_seeds(params.evaluation.seed, maps.ids)
    sample = randomization_sample(maps, params.evaluation)
    return [
        EvaluationChunk(
            maps.images[part],
            maps.clean_images[part],
            maps.maps[:, part],
            masks[part],
            maps.labels[part],
            maps.explained_class[part],
            seeds[part],
            evaluation_seeds[part],
            sample[part],
        )
        for part in consecutive_slices(len(maps.ids), params.compute.images_per_task)
    ]


def task_settings(params: Params, methods: list[str]) -> TaskSettings:
    """The :class:`TaskSettings` of ``params`` for maps of ``methods``."""
    config = params.evaluation
    curves, road = config.insertion_deletion, config.road
    return TaskSettings(
        methods=methods,
        pic=pic_settings(params),
        sanity=params.attribution.restricted(config.sanity_methods, methods),
        sanity_seed=config.seed,
        insertion_deletion=InsertionDeletionSettings(curves.steps, curves.blur_sigma) if curves else None,
        road=RoadSettings(tuple(road.percentages), road.noise) if road else None,
        random_logit=config.random_logit,
        cascading=params.attribution.restricted(config.cascading.methods, methods) if config.cascading else None,
        cascading_max_steps=config.cascading.max_steps if config.cascading else 0,
        batch_size=params.attribution.batch_size,
    )


def evaluate_chunk(chunk: EvaluationChunk, source: ModelSource, settings: TaskSettings) -> ChunkEvaluation:
    """One task: per image PIC, insertion/deletion and ROAD; the probabilities without the marker; and
    the sanity methods' maps of the randomised model and for a random other class, compared (SSIM)
    with the trained model's maps. Each measure's wall seconds go into ``seconds``."""
    explained = source.explained()
    predict = partial(explained.probabilities, batch_size=settings.batch_size)
    per_image = list(zip(chunk.images, chunk.maps.swapaxes(0, 1), chunk.classes, strict=True))
    seconds: dict[str, float] = {}
    with _clock(seconds, "pic"):
        pic = [
            image_pic(image, maps, mask, label, explained_class, explained.probabilities, settings.pic)
            for (image, maps, explained_class), mask, label in zip(per_image, chunk.random_masks, chunk.labels, strict=True)
        ]
    curves, road = [], []
    pixels = chunk.images[0].shape[0] * chunk.images[0].shape[1]
    ties = [tie_break(pixels, _stream(seed, TIE_STREAM)) for seed in chunk.evaluation_seeds]
    with _clock(seconds, "insertion_deletion"):
        if settings.insertion_deletion:
            curves = [
                image_insertion_deletion(*image, predict, settings.insertion_deletion, key)
                for image, key in zip(per_image, ties, strict=True)
            ]
    with _clock(seconds, "road"):
        if settings.road:
            streams = [_stream(seed, ROAD_STREAM) for seed in chunk.evaluation_seeds]
            road = [image_road(*image, predict, settings.road, rng, key) for image, rng, key in zip(per_image, streams, ties, strict=True)]
    without_marker = predict(chunk.clean_images)
    similarity, random_logit = {}, {}
    sanity = settings.sanity
    with _clock(seconds, "sanity"):
        if sanity.methods:
            similarity = _similarity(chunk, settings, partial(_randomized, source, settings.sanity_seed), chunk.classes, sanity)
    with _clock(seconds, "random_logit"):
        if sanity.methods and settings.random_logit:
            others = other_classes(chunk.classes, without_marker.shape[1], chunk.evaluation_seeds)
            random_logit = _similarity(chunk, settings, lambda: explained, others, sanity)
    with _clock(seconds, "cascading"):
        cascading = _cascading(chunk, source, settings, similarity)
    return ChunkEvaluation(pic, curves, road, without_marker, similarity, random_logit, cascading, seconds)


def _cascading(
    chunk: EvaluationChunk, source: ModelSource, settings: TaskSettings, whole: dict[str, np.ndarray]
) -> dict[str, dict[str, np.ndarray]]:
    """Step label -> method -> SSIM ``[n]`` between the trained model's maps and those of the model
    whose top blocks are randomised (cumulatively, the seed of the whole-model check). The last step
    randomises every block, so it is the whole-model check: its methods found in ``whole`` (the sanity
    SSIMs, method -> ``[n]``) are taken from there, not attributed again."""
    config = settings.cascading
    if config is None or not config.methods:
        return {}
    blocks = randomization_blocks(source.explained().model)
    steps = {}
    for top in cascade_steps(len(blocks), settings.cascading_max_steps):
        known = {m: whole[m] for m in config.methods if m in whole} if top == len(blocks) else {}
        rest = config.restricted([m for m in config.methods if m not in known], config.methods)
        found = {**known, **_similarity(chunk, settings, partial(_randomized, source, settings.sanity_seed, top), chunk.classes, rest)}
        steps[f"{top:02d}_{blocks[top - 1][0]}"] = {m: found[m] for m in config.methods}
    return steps


def _randomized(source: ModelSource, seed: int, top_blocks: int | None = None) -> ExplainedModel:
    """The randomised copy of ``source``'s model (all blocks, or the ``top_blocks`` top ones) in this process."""
    return source.randomized(seed, top_blocks).explained()


@contextmanager
def _clock(seconds: dict[str, float], name: str) -> Iterator[None]:
    """Add the wall seconds of the ``with`` block to ``seconds[name]``."""
    start = time.perf_counter()
    yield
    seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start


def other_classes(classes: np.ndarray, n_classes: int, evaluation_seeds: np.ndarray) -> np.ndarray:
    """Per image a class ``[n]`` drawn uniformly from the ``n_classes - 1`` other than ``classes``, seeded by the image."""
    draws = [int(_stream(seed, RANDOM_LOGIT_STREAM).integers(n_classes - 1)) for seed in evaluation_seeds]
    return np.asarray([draw + (draw >= c) for draw, c in zip(draws, classes, strict=True)], np.int64)


def _similarity(
    chunk: EvaluationChunk,
    settings: TaskSettings,
    model: Callable[[], ExplainedModel],
    classes: np.ndarray,
    config: AttributionConfig,
) -> dict[str, np.ndarray]:
    """Method (of ``config``) -> SSIM ``[n]`` between the chunk's maps and the maps that ``model()``
    gives for ``classes`` ``[n]``: computed for the chunk's ``sample``, NaN for its other images (the
    model is only built when the chunk has sampled images and there are methods to run)."""
    sample = chunk.sample
    similarity = {m: np.full(len(sample), np.nan) for m in config.methods}
    if sample.any() and config.methods:
        other = compute_maps(model(), chunk.images[sample], classes[sample], config, chunk.seeds[sample]).maps
        for m, maps in other.items():
            similarity[m][sample] = map_similarity(chunk.maps[settings.methods.index(m)][sample], maps)
    return similarity


def _stream(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), stream])


def faithfulness_scores(results: list[ChunkEvaluation], settings: TaskSettings) -> dict[str, dict[str, np.ndarray]]:
    """The per-image scores measured by the tasks: measure -> method -> ``[N]`` (only those computed)."""
    scores: dict[str, dict[str, np.ndarray]] = {}
    methods = settings.methods
    curves = [image for result in results for image in result.insertion_deletion]
    if curves:
        insertion, deletion = (np.stack(aucs, axis=1) for aucs in zip(*(image.aucs() for image in curves), strict=True))
        scores["insertion_auc"] = dict(zip(methods, insertion, strict=True))
        scores["deletion_auc"] = dict(zip(methods, deletion, strict=True))
    road = [image.scores(settings.road.percentages) for result in results for image in result.road if settings.road]
    if road:
        for name in road[0]:
            scores[f"road_{name}"] = dict(zip(methods, np.stack([image[name] for image in road], axis=1), strict=True))
    for name, field in (("sanity_ssim", "sanity"), ("random_logit_ssim", "random_logit")):
        found = [getattr(result, field) for result in results]
        if found and found[0]:
            scores[name] = {m: np.concatenate([part[m] for part in found]) for m in found[0]}
    for step in results[0].cascading:
        scores[f"{CASCADING}.{step}"] = {m: np.concatenate([r.cascading[step][m] for r in results]) for m in results[0].cascading[step]}
    return scores


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


def removal_curves(results: list[ChunkEvaluation], settings: TaskSettings) -> dict[str, RemovalCurves]:
    """The mean insertion, deletion, ROAD MoRF and LeRF curves over all images (those computed)."""
    curves: dict[str, RemovalCurves] = {}
    found = [image for result in results for image in result.insertion_deletion]
    if found and settings.insertion_deletion:
        x = np.linspace(0.0, 1.0, settings.insertion_deletion.steps + 1)
        for kind in ("insertion", "deletion"):
            mean = np.mean([getattr(image, kind) for image in found], axis=0)
            curves[kind] = RemovalCurves(x, dict(zip(settings.methods, mean, strict=True)))
    road = [image.probabilities[..., image.explained_class] for result in results for image in result.road]
    if road and settings.road:
        x = np.asarray(settings.road.percentages, np.float64) / 100
        for o, order in enumerate(ORDERS):
            curves[f"road_{order}"] = RemovalCurves(x, dict(zip(settings.methods, np.mean(road, axis=0)[o], strict=True)))
    return curves


def saliency_scores(maps: MapsFile, mask_kind: str, config: EvaluationConfig) -> dict[str, dict[str, np.ndarray]]:
    """Per-image scores of the maps alone, every measure of the table that scores them and applies here
    (localisation only with lesion masks, ``mask_kind == "lesion"``; the map shape with
    ``config.complexity``): measure -> method -> ``[N]``."""
    inputs = MapInputs(maps.masks if mask_kind == "lesion" else None, maps.markers, config.top_fraction, config.complexity)
    scores: dict[str, dict[str, np.ndarray]] = {}
    for measure in MEASURES.values():
        found = {m: measure.score(maps.maps[i], inputs) for i, m in enumerate(maps.method_names)} if measure.score else {}
        scored = {m: values for m, values in found.items() if values is not None}
        if found and len(scored) == len(found):
            scores[measure.name] = scored
    return scores


def blurred_strip_data(maps: MapsFile, pic: PicResults, masks: np.ndarray, params: Params) -> Strip | None:
    """The paper's appendix figure data for the first image SIC kept: per method, the blurred image
    at up to ``STRIP_THRESHOLDS`` thresholds and the explained class's probability on it (from PIC)."""
    kept = np.flatnonzero(~np.isnan(pic.auc["sic"]).any(axis=0))
    if not len(kept) or pic.sic_scores is None:
        return None
    n, thresholds = int(kept[0]), list(params.evaluation.thresholds)
    chosen = np.linspace(0, len(thresholds) - 1, min(STRIP_THRESHOLDS, len(thresholds))).round().astype(int)
    shown = tuple(thresholds[i] for i in chosen)
    series = blurred_series(to_uint8(maps.images[n]), maps.maps[:, n], masks[n], shown, params.evaluation.entropy)
    images = series.images.reshape(len(maps.methods), len(shown), *series.images.shape[1:])
    return Strip(str(maps.ids[n]), images, pic.sic_scores[:, n][:, chosen], list(shown))
