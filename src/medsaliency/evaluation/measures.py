"""The per-image measures of an explanation: one table that says what each one is.

Every consumer derives what it needs from :data:`MEASURES`: the report's column labels and better
directions (:mod:`medsaliency.reporting.tables`), the figure titles of the removal curves
(``stages/evaluate``), which measures are tested against Random (:mod:`~medsaliency.evaluation.model_evaluation`),
the orientation of the ranking agreement (:mod:`~medsaliency.evaluation.agreement`), the MLflow key of
each method run (:mod:`medsaliency.mlops.tracking_layout`) and the registered version's headline
(:mod:`medsaliency.mlops.model_card`). A measure's scores per method and image are computed in its own
module (``pic``, ``insertion_deletion``, ``road``, ``localization``, ``complexity``, ``sanity``) and
gathered by ``model_evaluation``; its flat metrics are ``<name>.<method>`` with ``_ci_low``,
``_ci_high`` and (tested ones) ``_p_vs_random`` beside the mean (:mod:`~medsaliency.evaluation.summary`).

A measure of the maps alone (localisation, the marker share, the map shape) is scored from the table
itself (:attr:`Measure.score`), so adding one is a scoring function, one line here and its test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from medsaliency.evaluation import complexity as map_shape
from medsaliency.evaluation import localization

REFERENCE_METHOD = "random"  # the method every tested measure is compared with, and the agreement leaves out

Better = Literal["higher", "lower"]
# The report's tables: one per group (PIC and the sanity checks have their own sections).
Group = Literal["pic", "faithfulness", "localisation", "shortcut", "sanity", "map_shape"]


@dataclass(frozen=True)
class MapInputs:
    """What a measure of the maps alone reads besides them: the lesion ``masks`` ``[N, H, W]`` (None where
    the dataset has none), the ``markers`` regions ``[N, H, W]``, ``top_fraction`` (share of the most
    salient pixels) and whether the map-shape measures are on (``evaluation.complexity``)."""

    masks: np.ndarray | None
    markers: np.ndarray
    top_fraction: float
    complexity: bool


# maps ``[N, H, W]`` of one method -> one score per image ``[N]``, or None where the measure does not apply
MapScore = Callable[[np.ndarray, MapInputs], np.ndarray | None]


@dataclass(frozen=True)
class Measure:
    """One measure: ``name`` (the flat metrics' key), ``label`` (tables), ``better`` (``None``: it
    describes the map and has no better direction), ``mlflow_key`` (in each method's run), ``group``
    (the report's table it is a column of), ``curve``
    (the label of its curve where it is the area under one), ``score`` (for a measure of the maps
    alone: how it scores them; ``None``: it needs the model, and ``model_evaluation``'s tasks measure
    it), whether it explains images again (then only on the sample, and never tested against Random:
    its reference is the trained model's own maps), whether it ``ranks`` methods in the agreement table,
    and whether the registered version's ``headline`` names its best method."""

    name: str
    label: str
    better: Better | None
    mlflow_key: str
    group: Group
    curve: str | None = None
    score: MapScore | None = None
    re_explains: bool = False
    ranks: bool = False
    headline: bool = False

    @property
    def needs_model(self) -> bool:
        """Scored by running the model (PIC, removal, ROAD, sanity), not from the maps alone."""
        return self.score is None

    @property
    def title(self) -> str:
        """``label (higher better)``: the label with its better direction."""
        return self.label if self.better is None else f"{self.label} ({self.better} better)"

    @property
    def curve_title(self) -> str:
        """The curve's label with the better direction of its area."""
        return f"{self.curve or self.label} ({self.better} better)" if self.better else self.curve or self.label

    @property
    def orientation(self) -> int:
        """+1 when higher is better, -1 when lower is, 0 without a direction."""
        return {"higher": 1, "lower": -1, None: 0}[self.better]

    @property
    def tested_against_random(self) -> bool:
        """A better direction, and Random's maps as its reference (not a re-explaining check)."""
        return self.better is not None and not self.re_explains


def _pointing_game(maps: np.ndarray, inputs: MapInputs) -> np.ndarray | None:
    return None if inputs.masks is None else localization.pointing_game(maps, inputs.masks)


def _mass_in_mask(maps: np.ndarray, inputs: MapInputs) -> np.ndarray | None:
    return None if inputs.masks is None else localization.mass_in_mask(maps, inputs.masks)


def _top_iou(maps: np.ndarray, inputs: MapInputs) -> np.ndarray | None:
    return None if inputs.masks is None else localization.top_fraction_iou(maps, inputs.masks, inputs.top_fraction)


def _marker_mass(maps: np.ndarray, inputs: MapInputs) -> np.ndarray | None:
    return localization.mass_in_mask(maps, inputs.markers)


def _marker_in_top(maps: np.ndarray, inputs: MapInputs) -> np.ndarray | None:
    return localization.top_fraction_coverage(maps, inputs.markers, inputs.top_fraction)


def _sparseness(maps: np.ndarray, inputs: MapInputs) -> np.ndarray | None:
    return map_shape.sparseness(maps) if inputs.complexity else None


def _complexity(maps: np.ndarray, inputs: MapInputs) -> np.ndarray | None:
    return map_shape.complexity(maps) if inputs.complexity else None


MEASURES: dict[str, Measure] = {
    measure.name: measure
    for measure in (
        Measure("sic_auc", "SIC AUC", "higher", "pic/sic_auc", "pic", ranks=True, headline=True),
        Measure("aic_auc", "AIC AUC", "higher", "pic/aic_auc", "pic", ranks=True, headline=True),
        Measure(
            "insertion_auc", "insertion AUC", "higher", "removal/insertion_auc", "faithfulness", "insertion", ranks=True, headline=True
        ),
        Measure("deletion_auc", "deletion AUC", "lower", "removal/deletion_auc", "faithfulness", "deletion", ranks=True, headline=True),
        Measure("road_morf", "ROAD MoRF probability", "lower", "road/morf", "faithfulness", "ROAD MoRF"),
        Measure("road_lerf", "ROAD LeRF probability", "higher", "road/lerf", "faithfulness", "ROAD LeRF"),
        Measure("road_gap", "ROAD LeRF - MoRF (SRG)", "higher", "road/gap", "faithfulness", ranks=True),
        Measure("pointing_game", "pointing game", "higher", "localisation/pointing_game", "localisation", score=_pointing_game),
        Measure("mass_in_mask", "mass in mask", "higher", "localisation/mass_in_mask", "localisation", score=_mass_in_mask, ranks=True),
        Measure("top_iou", "top iou", "higher", "localisation/top_iou", "localisation", score=_top_iou),
        Measure("marker_mass", "share of saliency on the marker", "higher", "shortcut/marker_mass", "shortcut", score=_marker_mass),
        Measure(
            "marker_in_top", "marker pixels among the most salient", "higher", "shortcut/marker_in_top", "shortcut", score=_marker_in_top
        ),
        Measure("sanity_ssim", "weight randomisation SSIM", "lower", "sanity/weight_ssim", "sanity", re_explains=True),
        Measure("random_logit_ssim", "RandomLogit SSIM", "lower", "sanity/random_logit_ssim", "sanity", re_explains=True),
        Measure("sparseness", "sparseness (Gini)", None, "complexity/sparseness", "map_shape", score=_sparseness),
        Measure("complexity", "complexity (entropy, nats)", None, "complexity/complexity", "map_shape", score=_complexity),
    )
}


def group(name: Group) -> tuple[str, ...]:
    """The measures of one report table, in the table's order."""
    return tuple(measure.name for measure in MEASURES.values() if measure.group == name)


FAITHFULNESS, LOCALISATION, MAP_SHAPE = group("faithfulness"), group("localisation"), group("map_shape")
# The removal curves (evaluate's figures): curve kind -> the measure whose area it is.
REMOVAL_CURVES = {"insertion": "insertion_auc", "deletion": "deletion_auc", "road_morf": "road_morf", "road_lerf": "road_lerf"}
