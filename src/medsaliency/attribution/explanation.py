"""Explain one model on a sample of test images: the chosen images, the explained classes, every map.

:func:`choose_sample` picks the seeded, class-stratified test images (the same for every model);
:func:`explain` runs every method of ``attribution.methods`` on them and returns an
:class:`Explanation`, which :meth:`Explanation.maps_file` turns into the attribute stage's output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medsaliency.artifacts import MapsFile
from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.attribution.methods import Attributions, compute_maps, explained_classes, image_seeds
from medsaliency.attribution.selection import select_images
from medsaliency.config import AttributionConfig
from medsaliency.errors import DataError
from medsaliency.models.backbones import backbone_spec

TEST_ARRAYS = ("x", "x_clean", "y", "mask", "marker", "ids")


@dataclass(frozen=True)
class Sample:
    """The explained test images: ``images`` and ``clean_images`` ``[N, H, W, C]`` float32,
    ``masks`` and ``markers`` uint8 ``[N, H, W]``, ``labels`` ``[N]``, ``ids`` ``[N]``, ``seeds`` uint32 ``[N]``."""

    images: np.ndarray
    clean_images: np.ndarray
    masks: np.ndarray
    markers: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
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
        seeds=image_seeds(config.seed, ids),
    )


def target_layer(backbone: str, config: AttributionConfig) -> str:
    """The Grad-CAM-family layer: ``attribution.target_layers[backbone]``, else the backbone registry's."""
    return config.target_layers.get(backbone) or backbone_spec(backbone).target_layer


def explain(model, name: str, version: str, backbone: str, sample: Sample, config: AttributionConfig, progress=None) -> Explanation:
    """Every method of ``config.methods`` on ``sample`` for ``model`` (a ``keras.Model``), timed per method."""
    layer = target_layer(backbone, config)
    explained = ExplainedModel(model, layer)
    classes, probabilities = explained_classes(explained, sample.images, sample.labels, config.explain)
    attributions = compute_maps(explained, sample.images, classes, config, sample.seeds, progress=progress)
    return Explanation(name, version, backbone, layer, classes, probabilities, attributions)
