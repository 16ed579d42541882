"""Evaluate one explained model: PIC, the other faithfulness measures, statistics, localisation, marker share, sanity.

:func:`evaluate_model` takes the attribute stage's :class:`~medsaliency.io.artifacts.MapsFile` and the
:class:`~medsaliency.attribution.explained_model.ModelSource` of the model that made it, and returns a
:class:`ModelEvaluation`: the flat metrics of :mod:`medsaliency.evaluation.summary`, the PIC
results, the aggregated curves, the per-image table and the data of the paper's blurred-image
figure. The work that needs the model (PIC, insertion/deletion and ROAD per image, the images
without their marker, the randomised model's maps, what the measures say of them (reactivity,
:mod:`.reactivity`) and the maps for a random other class) runs as
:func:`evaluate_chunk` tasks on a
:class:`~medsaliency.compute.TaskRunner`, whole ``attribution.batch_size`` batches per task, so
the numbers do not depend on where the tasks ran; statistics and figures are computed here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
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
from medsaliency.evaluation.measures import MEASURES, REFERENCE_METHOD, MapInputs
from medsaliency.evaluation.pic import CURVES, ImagePic, PicResults, PicSettings, aggregate, blurred_series, image_pic, pic_results
from medsaliency.evaluation.pixel_order import tie_break
from medsaliency.evaluation.reactivity import reactivity_metrics
from medsaliency.evaluation.road import ORDERS, ImageRoad, RoadSettings, image_road
from medsaliency.evaluation.sanity import cascade_steps, map_similarity, randomization_blocks, randomization_sample
from medsaliency.evaluation.summary import per_image_table, pic_metrics, score_metrics, shortcut_metrics
from medsaliency.io.artifacts import MapsFile

STRIP_THRESHOLDS = 7
CASCADING = "cascading_ssim"  # one score per step: cascading_ssim.<k>_<layer>
# The measures that explain images again, on the sample only (their cost is per sampled image).
REEXPLAINING = ("sanity", "reactivity", "random_logit", "cascading")
# Independent random streams drawn from one image's evaluation seed (the random pixel mask uses the seed itself).
ROAD_STREAM, RANDOM_LOGIT_STREAM, TIE_STREAM = 1, 2, 3
SIGNIFICANCE = 0.05  # a method beats Random on a measure where its Holm-adjusted p is below this


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
    randomised, down to ``layer``) and method the SSIM ``[n]``; the weight-randomised model's maps of the
    sampled images scored by the trained model (``randomized``, None without sanity methods);
    ``seconds`` per measure (wall, whole task)."""

    pic: list[ImagePic]
    insertion_deletion: list[ImageInsertionDeletion]
    road: list[ImageRoad]
    without_marker: np.ndarray
    sanity: dict[str, np.ndarray]
    random_logit: dict[str, np.ndarray]
    cascading: dict[str, dict[str, np.ndarray]]
    randomized: RandomizedScored | None
    seconds: dict[str, float]


@dataclass(frozen=True)
class RandomizedScored:
    """The weight-randomised model's maps of a chunk's sampled images (method -> ``[s, H, W]``, the sanity
    methods) and what the trained model's measures say of them: per sampled image PIC, insertion/deletion
    and ROAD over those methods, in ``maps``' order (empty lists when off)."""

    maps: dict[str, np.ndarray]
    pic: list[ImagePic]
    insertion_deletion: list[ImageInsertionDeletion]
    road: list[ImageRoad]


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
    sample = np.concatenate([chunk.sample for chunk in chunks])
    randomized = randomized_scores(maps, sample, results, settings, mask_kind, config)
    metrics.update(reactivity_metrics_of(metrics, pic, scores, methods, sample, randomized))
    sampled = int(sample.sum())
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
    seconds: dict[str, float] = {}
    pic, curves, road = _scored_by_model(
        chunk.images, chunk.maps, chunk, np.ones(len(chunk.images), bool), explained, settings, lambda name: _clock(seconds, name)
    )
    without_marker = predict(chunk.clean_images)
    similarity, random_logit = {}, {}
    sanity = settings.sanity
    randomized_maps: dict[str, np.ndarray] = {}
    with _clock(seconds, "sanity"):
        if sanity.methods:
            randomized_maps = _reexplained(chunk, partial(_randomized, source, settings.sanity_seed), chunk.classes, sanity)
            similarity = _compared(chunk, settings, sanity, randomized_maps)
    randomized = None
    if sanity.methods:
        with _clock(seconds, "reactivity"):
            randomized = _randomized_scored(chunk, randomized_maps, explained, settings)
    with _clock(seconds, "random_logit"):
        if sanity.methods and settings.random_logit:
            others = other_classes(chunk.classes, without_marker.shape[1], chunk.evaluation_seeds)
            random_logit = _similarity(chunk, settings, lambda: explained, others, sanity)
    with _clock(seconds, "cascading"):
        cascading = _cascading(chunk, source, settings, similarity)
    return ChunkEvaluation(pic, curves, road, without_marker, similarity, random_logit, cascading, randomized, seconds)


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
    gives for ``classes`` ``[n]`` (:func:`_reexplained`, :func:`_compared`)."""
    return _compared(chunk, settings, config, _reexplained(chunk, model, classes, config))


def _reexplained(
    chunk: EvaluationChunk, model: Callable[[], ExplainedModel], classes: np.ndarray, config: AttributionConfig
) -> dict[str, np.ndarray]:
    """Method (of ``config``) -> the maps ``[s, H, W]`` that ``model()`` gives for ``classes`` ``[n]`` of
    the chunk's ``sample`` (``s`` images; the model is only built when there are images and methods)."""
    sample = chunk.sample
    if not sample.any() or not config.methods:
        return {}
    return compute_maps(model(), chunk.images[sample], classes[sample], config, chunk.seeds[sample]).maps


def _compared(
    chunk: EvaluationChunk, settings: TaskSettings, config: AttributionConfig, other: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Method (of ``config``) -> SSIM ``[n]`` between the chunk's maps and ``other`` (method -> maps of the
    sampled images), NaN for the images outside the sample."""
    sample = chunk.sample
    similarity = {m: np.full(len(sample), np.nan) for m in config.methods}
    for m, maps in other.items():
        similarity[m][sample] = map_similarity(chunk.maps[settings.methods.index(m)][sample], maps)
    return similarity


def _scored_by_model(
    images: np.ndarray,
    maps: np.ndarray,
    chunk: EvaluationChunk,
    chosen: np.ndarray,
    explained: ExplainedModel,
    settings: TaskSettings,
    clock: Callable[[str], AbstractContextManager],
) -> tuple[list[ImagePic], list[ImageInsertionDeletion], list[ImageRoad]]:
    """PIC, insertion/deletion and ROAD (empty lists when off) of ``maps`` ``[M, n', H, W]`` of ``images``
    ``[n', ...]``: the ``chosen`` (bool ``[n]``) images of ``chunk``, whose masks, labels, classes and
    seeds they use, scored by ``explained``; ``clock(measure)`` times each."""
    predict = partial(explained.probabilities, batch_size=settings.batch_size)
    per_image = list(zip(images, maps.swapaxes(0, 1), chunk.classes[chosen], strict=True))
    evaluation_seeds = chunk.evaluation_seeds[chosen]
    with clock("pic"):
        pic = [
            image_pic(image, image_maps, mask, label, explained_class, explained.probabilities, settings.pic)
            for (image, image_maps, explained_class), mask, label in zip(
                per_image, chunk.random_masks[chosen], chunk.labels[chosen], strict=True
            )
        ]
    curves, road = [], []
    pixels = images.shape[1] * images.shape[2]
    ties = [tie_break(pixels, _stream(seed, TIE_STREAM)) for seed in evaluation_seeds]
    with clock("insertion_deletion"):
        if settings.insertion_deletion:
            curves = [
                image_insertion_deletion(*image, predict, settings.insertion_deletion, key)
                for image, key in zip(per_image, ties, strict=True)
            ]
    with clock("road"):
        if settings.road:
            streams = [_stream(seed, ROAD_STREAM) for seed in evaluation_seeds]
            road = [image_road(*image, predict, settings.road, rng, key) for image, rng, key in zip(per_image, streams, ties, strict=True)]
    return pic, curves, road


def _randomized_scored(
    chunk: EvaluationChunk, maps: dict[str, np.ndarray], explained: ExplainedModel, settings: TaskSettings
) -> RandomizedScored:
    """The weight-randomised model's ``maps`` of the chunk's sample (method -> ``[s, H, W]``) scored by the
    trained model ``explained`` with the same masks, tie breaks and seeds as the trained maps."""
    if not maps:
        return RandomizedScored({}, [], [], [])
    stacked = np.stack(list(maps.values()))
    pic, curves, road = _scored_by_model(
        chunk.images[chunk.sample], stacked, chunk, chunk.sample, explained, settings, lambda _: nullcontext()
    )
    return RandomizedScored(maps, pic, curves, road)


def _stream(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), stream])


def faithfulness_scores(results: list[ChunkEvaluation], settings: TaskSettings) -> dict[str, dict[str, np.ndarray]]:
    """The per-image scores measured by the tasks: measure -> method -> ``[N]`` (only those computed)."""
    curves = [image for result in results for image in result.insertion_deletion]
    road = [image for result in results for image in result.road]
    scores = removal_scores(curves, road, settings.methods, settings)
    for name, field in (("sanity_ssim", "sanity"), ("random_logit_ssim", "random_logit")):
        found = [getattr(result, field) for result in results]
        if found and found[0]:
            scores[name] = {m: np.concatenate([part[m] for part in found]) for m in found[0]}
    for step in results[0].cascading:
        scores[f"{CASCADING}.{step}"] = {m: np.concatenate([r.cascading[step][m] for r in results]) for m in results[0].cascading[step]}
    return scores


def reactivity_metrics_of(
    metrics: dict[str, float],
    pic: PicResults,
    scores: dict[str, dict[str, np.ndarray]],
    methods: list[str],
    sample: np.ndarray,
    randomized: dict[str, dict[str, np.ndarray]],
) -> dict[str, float]:
    """:func:`~medsaliency.evaluation.reactivity.reactivity_metrics` of the ``randomized`` scores of the
    ``sample`` (bool ``[N]``) against the trained maps' (``pic`` and ``scores``, every image), for the
    methods that each measure's test says beat Random (``metrics``' p-values, p < 0.05, in the better
    direction over every image)."""
    every = {f"{kind}_auc": dict(zip(methods, pic.auc[kind], strict=True)) for kind in CURVES} | scores
    trained = {name: {m: values[sample] for m, values in every[name].items()} for name in randomized if name in every}
    beats = {}
    for name in trained:
        p_name = name.removesuffix("_auc") if name in ("sic_auc", "aic_auc") else name
        reference = np.nanmean(every[name][REFERENCE_METHOD]) if REFERENCE_METHOD in every[name] else np.nan
        beats[name] = {
            m
            for m, values in every[name].items()
            if metrics.get(f"{p_name}_p_vs_random.{m}", 1.0) < SIGNIFICANCE
            and (np.nanmean(values) - reference) * MEASURES[name].orientation > 0
        }
    return reactivity_metrics(trained, randomized, beats)


def removal_scores(
    curves: list[ImageInsertionDeletion], road: list[ImageRoad], methods: list[str], settings: TaskSettings
) -> dict[str, dict[str, np.ndarray]]:
    """Insertion/deletion AUCs and ROAD's scores of per-image results over ``methods``: measure ->
    method -> ``[n]`` (those computed)."""
    scores: dict[str, dict[str, np.ndarray]] = {}
    if curves:
        insertion, deletion = (np.stack(aucs, axis=1) for aucs in zip(*(image.aucs() for image in curves), strict=True))
        scores["insertion_auc"] = dict(zip(methods, insertion, strict=True))
        scores["deletion_auc"] = dict(zip(methods, deletion, strict=True))
    found = [image.scores(settings.road.percentages) for image in road if settings.road]
    if found:
        for name in found[0]:
            scores[f"road_{name}"] = dict(zip(methods, np.stack([image[name] for image in found], axis=1), strict=True))
    return scores


def randomized_scores(
    maps: MapsFile, sample: np.ndarray, results: list[ChunkEvaluation], settings: TaskSettings, mask_kind: str, config: EvaluationConfig
) -> dict[str, dict[str, np.ndarray]]:
    """What the trained model's measures say of the weight-randomised model's maps of the ``sample``
    (bool ``[N]``, ``S`` images): measure -> method -> ``[S]`` (PIC AUCs, insertion/deletion, ROAD and
    every measure of the maps alone; the sanity methods; empty without them)."""
    parts = [result.randomized for result in results if result.randomized is not None and result.randomized.maps]
    if not parts:
        return {}
    methods = list(parts[0].maps)
    method_maps = {m: np.concatenate([part.maps[m] for part in parts]) for m in methods}
    pic = pic_results([image for part in parts for image in part.pic], len(methods), settings.pic)
    scores = {f"{kind}_auc": dict(zip(methods, pic.auc[kind], strict=True)) for kind in CURVES}
    curves = [image for part in parts for image in part.insertion_deletion]
    scores |= removal_scores(curves, [image for part in parts for image in part.road], methods, settings)
    return scores | map_scores(method_maps, map_inputs(maps, mask_kind, config, sample))


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
    """Per-image scores of the maps alone: measure -> method -> ``[N]`` (:func:`map_scores`)."""
    method_maps = dict(zip(maps.method_names, maps.maps, strict=True))
    return map_scores(method_maps, map_inputs(maps, mask_kind, config, np.ones(maps.maps.shape[1], bool)))


def map_inputs(maps: MapsFile, mask_kind: str, config: EvaluationConfig, images: np.ndarray) -> MapInputs:
    """What the measures of the maps alone read, for the ``images`` (bool ``[N]``) of ``maps``: the lesion
    masks (``mask_kind == "lesion"`` only), the marker regions and ``config``'s settings."""
    masks = maps.masks[images] if mask_kind == "lesion" else None
    return MapInputs(masks, maps.markers[images], config.top_fraction, config.complexity)


def map_scores(method_maps: dict[str, np.ndarray], inputs: MapInputs) -> dict[str, dict[str, np.ndarray]]:
    """Every measure of the table that scores the maps alone and applies to ``inputs`` (localisation only
    with lesion masks; the map shape with ``complexity``), of ``method_maps`` (method -> ``[n, H, W]``):
    measure -> method -> ``[n]``."""
    scores: dict[str, dict[str, np.ndarray]] = {}
    for measure in MEASURES.values():
        found = {m: measure.score(images, inputs) for m, images in method_maps.items()} if measure.score else {}
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
