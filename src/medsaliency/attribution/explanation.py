"""Explain one model on a sample of test images: the chosen images, the explained classes, every map.

:func:`choose_sample` picks the seeded, class-stratified test images (the same for every model);
:func:`explain` runs every method of ``attribution.methods`` on them, chunk by chunk on a
:class:`~medsaliency.compute.TaskRunner` (Dask workers or this process; each worker loads the
model once from its registry URI), and returns an :class:`Explanation`, which
:meth:`Explanation.maps_file` turns into the attribute stage's output. A chunk is
``compute.images_per_task`` images; every model call is padded to ``attribution.batch_size``
rows and a row's result does not depend on the others of its call, so the maps do not depend
on where or in how many tasks they were computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medsaliency.attribution.batching import consecutive_slices
from medsaliency.attribution.explained_model import ExplainedModel, ModelSource
from medsaliency.attribution.methods import Attributions, compute_maps, explained_classes, image_seeds
from medsaliency.attribution.selection import select_images
from medsaliency.compute import TaskRunner
from medsaliency.config import AttributionConfig, ComputeConfig
from medsaliency.errors import DataError
from medsaliency.io.artifacts import MapsFile, RegisteredModel
from medsaliency.models.backbones import backbone_spec

TEST_ARRAYS = ("x", "x_clean", "y", "mask", "marker", "ids", "patient_ids")


@dataclass(frozen=True)
class Sample:
    """The explained test images: ``images`` and ``clean_images`` ``[N, H, W, C]`` float32,
    ``masks`` and ``markers`` uint8 ``[N, H, W]``, ``labels`` ``[N]``, ``ids`` and their ``patient_ids`` ``[N]``,
    ``seeds`` uint32 ``[N]``."""

    images: np.ndarray
    clean_images: np.ndarray
    masks: np.ndarray
    markers: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    patient_ids: np.ndarray
    seeds: np.ndarray


@dataclass(frozen=True)
class Explanation:
    """One model's result on a :class:`Sample`: the explained ``classes`` ``[N]``, ``probabilities`` ``[N, K]``, the maps."""

    name: str
    version: str
    backbone: str
    target_layer: str
    classes: np.ndarray
    probabilities: np.ndarray
    attributions: Attributions

    def maps_file(self, sample: Sample, config: AttributionConfig) -> MapsFile:
        return MapsFile(
            maps=np.stack([self.attributions.maps[m] for m in config.methods]),
            methods=np.array(config.methods),
            images=sample.images,
            clean_images=sample.clean_images,
            masks=sample.masks,
            markers=sample.markers,
            ids=sample.ids,
            patient_ids=sample.patient_ids,
            labels=sample.labels,
            explained_class=self.classes,
            probabilities=self.probabilities,
            model_name=self.name,
            model_version=self.version,
            target_layer=self.target_layer,
            explain=config.explain,
        )


def choose_sample(test: dict[str, np.ndarray], n_classes: int, config: AttributionConfig, source: str = "test split") -> Sample:
    """The seeded, class-stratified images of ``config`` from the prepared test arrays (``TEST_ARRAYS``)."""
    missing = set(TEST_ARRAYS) - set(test)
    if missing:
        raise DataError(f"{source}: missing array(s) {', '.join(sorted(missing))}; re-run prepare")
    chosen = select_images(test["y"], n_classes, config.images_per_class, config.seed)
    if not len(chosen):
        raise DataError(f"{source}: no test images to explain")
    ids = test["ids"][chosen]
    return Sample(
        images=test["x"][chosen].astype(np.float32),
        clean_images=test["x_clean"][chosen].astype(np.float32),
        masks=test["mask"][chosen],
        markers=test["marker"][chosen],
        labels=test["y"][chosen],
        ids=ids,
        patient_ids=test["patient_ids"][chosen],
        seeds=image_seeds(config.seed, ids),
    )


def target_layer(backbone: str, config: AttributionConfig) -> str:
    """The Grad-CAM-family layer: ``attribution.target_layers[backbone]``, else the backbone registry's."""
    return config.target_layers.get(backbone) or backbone_spec(backbone).target_layer


@dataclass(frozen=True)
class SampleChunk:
    """The part of a :class:`Sample` one task explains: ``images`` ``[n, H, W, C]``, ``labels``, ``seeds`` ``[n]``."""

    images: np.ndarray
    labels: np.ndarray
    seeds: np.ndarray


@dataclass(frozen=True)
class ImagesExplanation:
    """Explained ``classes`` ``[n]``, ``probabilities`` ``[n, K]`` and every method's maps of some images."""

    classes: np.ndarray
    probabilities: np.ndarray
    attributions: Attributions


def explain(
    source: ModelSource, model: RegisteredModel, sample: Sample, config: AttributionConfig, runner: TaskRunner, compute: ComputeConfig
) -> Explanation:
    """Every method of ``config.methods`` on ``sample`` for the champion of ``model``, loaded from
    ``source``, in tasks of ``compute.images_per_task`` images run by
    ``runner`` (here or on Dask workers; ``compute.gpu``: on GPU workers)."""
    parts = [
        SampleChunk(sample.images[part], sample.labels[part], sample.seeds[part])
        for part in consecutive_slices(len(sample.ids), compute.images_per_task)
    ]
    label = f"{model.name} v{model.champion_version}: attribution"
    results = runner.map(explain_chunk, parts, label, gpu=compute.gpu, source=source, config=config)
    joined = _joined(results, [len(part.images) for part in parts], config)
    return Explanation(model.name, model.champion, model.backbone, source.target_layer, *joined)


def explain_model(model, name: str, version: str, backbone: str, sample: Sample, config: AttributionConfig) -> Explanation:
    """:func:`explain` of a ``keras.Model`` in this process (benches, probes): the same maps."""
    layer = target_layer(backbone, config)
    result = explain_images(ExplainedModel(model, layer), sample.images, sample.labels, sample.seeds, config)
    return Explanation(name, version, backbone, layer, result.classes, result.probabilities, result.attributions)


def explain_chunk(chunk: SampleChunk, source: ModelSource, config: AttributionConfig) -> ImagesExplanation:
    """One task: :func:`explain_images` with the model of ``source``, loaded once per process."""
    return explain_images(source.explained(), chunk.images, chunk.labels, chunk.seeds, config)


def explain_images(
    explained: ExplainedModel, images: np.ndarray, labels: np.ndarray, seeds: np.ndarray, config: AttributionConfig
) -> ImagesExplanation:
    """The explained classes, probabilities and maps of ``images`` ``[n, H, W, C]``, timed per method."""
    classes, probabilities = explained_classes(explained, images, labels, config.explain, config.batch_size)
    return ImagesExplanation(classes, probabilities, compute_maps(explained, images, classes, config, seeds))


def _joined(parts: list[ImagesExplanation], sizes: list[int], config: AttributionConfig) -> tuple:
    """Classes, probabilities and :class:`Attributions` of all chunks, in order; seconds per image weighted by chunk size."""
    maps = {method: np.concatenate([part.attributions.maps[method] for part in parts]) for method in config.methods}
    seconds = {
        method: sum(part.attributions.seconds_per_image[method] * size for part, size in zip(parts, sizes, strict=True)) / sum(sizes)
        for method in config.methods
    }
    classes = np.concatenate([part.classes for part in parts])
    return classes, np.concatenate([part.probabilities for part in parts]), Attributions(maps, seconds)
