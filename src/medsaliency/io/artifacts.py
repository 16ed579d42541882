"""What the stages hand each other on disk: one typed record per file, with its read and write.

| record | file | written by | read by |
|---|---|---|---|
| :class:`SplitArrays` | ``outputs/prepare/<ds>/<split>.npz`` | prepare | tune, data_randomization |
| :class:`ValidationVerdict` | ``outputs/validate/<ds>/validation.json`` | validate | tune, register |
| :class:`TuneSummary` | ``outputs/tune/<ds>/<backbone>.json`` | tune | register, report |
| :class:`RegistryRecord` | ``outputs/register/<ds>/registry.json`` | register | attribute, evaluate, report |
| :class:`MapsFile` | ``outputs/attribute/<ds>/<model>.npz`` | attribute | evaluate |

JSON records are written with sorted keys and a final newline, so the same content is the same
bytes (DVC hashes them). A file that is missing, not JSON, or lacks a field fails with a
:class:`~medsaliency.errors.DataError` naming the file, the field and the stage to run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Self

import numpy as np

from medsaliency.errors import DataError
from medsaliency.io.atomic import staged_file
from medsaliency.io.jsonfile import read_json
from medsaliency.io.npz import load_npz, save_npz


def write_json_record(record: Any, path: Path) -> Path:
    """``record`` (a dataclass) as sorted, indented JSON, swapped in atomically."""
    with staged_file(path) as staging:
        staging.write_text(json.dumps(asdict(record), indent=2, sort_keys=True) + "\n")
    return path


def _fields_of(cls: type, raw: Any, path: Path, producer: str) -> dict:
    if not isinstance(raw, dict):
        raise DataError(f"{path}: expected a JSON object; re-run the {producer} stage")
    missing = [field.name for field in fields(cls) if field.name not in raw]
    if missing:
        raise DataError(f"{path}: missing field(s) {', '.join(missing)}; re-run the {producer} stage")
    return {field.name: raw[field.name] for field in fields(cls)}


@dataclass(frozen=True)
class SplitArrays:
    """``x`` float32 ``[N, S, S, 1]`` and ``y`` int64 ``[N]`` of one split."""

    x: np.ndarray
    y: np.ndarray

    @classmethod
    def read(cls, path: Path) -> SplitArrays:
        """One split of the prepare stage (``outputs/prepare/<dataset>/<split>.npz``)."""
        arrays = load_npz(path)
        return cls(x=arrays["x"], y=arrays["y"])


@dataclass(frozen=True)
class ValidationVerdict:
    """The Great Expectations verdict on one manifest (no timestamps: DVC hashes it)."""

    success: bool
    evaluated_expectations: int
    successful_expectations: int
    unsuccessful_expectations: int
    failures: list[str]

    write = write_json_record

    @classmethod
    def read(cls, path: Path) -> Self:
        return cls(**_fields_of(cls, read_json(path, "not found; run the validate stage"), path, "validate"))

    @classmethod
    def passed(cls, path: Path) -> bool:
        """Whether the file exists and says every expectation was met."""
        return path.is_file() and cls.read(path).success


@dataclass(frozen=True)
class TuneSummary:
    """The settled study of one (dataset, backbone): best trial, its params and scores, trial counts.

    ``test``: the best model's held-out metrics (``accuracy``, ``macro_f1``, ``recall.<class>``...);
    ``trials``: Optuna state name -> count.
    """

    dataset: str
    backbone: str
    study: str
    best_trial: int
    best_params: dict[str, Any]
    val_macro_f1: float
    test: dict[str, float]
    trials: dict[str, int]

    write = write_json_record

    @classmethod
    def read(cls, path: Path) -> Self:
        return cls(**_fields_of(cls, read_json(path, "tune summary not found; run the tune stage"), path, "tune"))

    @property
    def min_recall(self) -> float | None:
        recalls = [value for key, value in self.test.items() if key.startswith("recall.")]
        return min(recalls) if recalls else None


@dataclass(frozen=True)
class RegisteredModel:
    """One backbone's registered model after the gate: versions holding ``challenger`` and ``champion``."""

    name: str
    backbone: str
    challenger_version: str
    champion_version: str | None
    champion_macro_f1: float | None

    @property
    def champion(self) -> str:
        """The version holding ``champion`` (what is explained); a :class:`DataError` when the gate promoted none."""
        if self.champion_version is None:
            raise DataError(f"{self.name}: no version holds the champion alias; run the register stage")
        return self.champion_version


@dataclass(frozen=True)
class RegistryRecord:
    """What register resolved for one dataset: every registered model and the ``top_k`` names explained, best first."""

    dataset: str
    models: list[RegisteredModel]
    top_k: list[str]

    write = write_json_record

    @classmethod
    def read(cls, path: Path) -> Self:
        raw = _fields_of(cls, read_json(path, "not found; run the register stage first"), path, "register")
        models = [RegisteredModel(**_fields_of(RegisteredModel, entry, path, "register")) for entry in raw["models"] or []]
        record = cls(raw["dataset"], models, list(raw["top_k"]))
        unknown = set(record.top_k) - {model.name for model in models}
        if unknown:
            raise DataError(f"{path}: top_k names {', '.join(sorted(unknown))} that are not among its models; re-run the register stage")
        return record

    def explained(self) -> list[RegisteredModel]:
        """The ``top_k`` models, best first."""
        by_name = {model.name: model for model in self.models}
        return [by_name[name] for name in self.top_k]


@dataclass(frozen=True)
class MapsFile:
    """The saliency maps of one registered model on the explained test images.

    - ``maps`` float32 ``[M, N, H, W]`` in the order of ``methods`` str ``[M]``;
    - ``images`` float32 ``[N, H, W, C]`` (as the model saw them: planted marker included),
      ``clean_images`` (the same without the marker), ``masks`` and ``markers`` uint8 ``[N, H, W]``
      (lesion or lung mask; the class-coded marker region), ``ids`` and ``patient_ids`` str ``[N]`` (the
      statistics' unit is the patient), ``labels`` int64
      ``[N]``, ``explained_class`` int32 ``[N]``, ``probabilities`` float32 ``[N, K]``;
    - ``model_name``, ``model_version``, ``target_layer``, ``explain``: str scalars.

    It holds no timings: the same inputs explained again must hash the same.
    """

    maps: np.ndarray
    methods: np.ndarray
    images: np.ndarray
    clean_images: np.ndarray
    masks: np.ndarray
    markers: np.ndarray
    ids: np.ndarray
    patient_ids: np.ndarray
    labels: np.ndarray
    explained_class: np.ndarray
    probabilities: np.ndarray
    model_name: str
    model_version: str
    target_layer: str
    explain: str

    def write(self, path: Path) -> Path:
        arrays = {field.name: getattr(self, field.name) for field in fields(self)}
        save_npz(path, **{key: np.asarray(value) for key, value in arrays.items()})
        return path

    @classmethod
    def read(cls, path: Path) -> Self:
        """The file, checked for every array and for finite maps of shape ``[methods, images, H, W]``."""
        if not path.is_file():
            raise DataError(f"{path}: maps not found; run the attribute stage")
        arrays = load_npz(path)
        missing = {field.name for field in fields(cls)} - set(arrays)
        if missing:
            raise DataError(f"{path}: missing array(s) {', '.join(sorted(missing))}; re-run the attribute stage")
        maps = arrays["maps"]
        if maps.shape[:2] != (len(arrays["methods"]), len(arrays["ids"])) or not np.isfinite(maps).all():
            raise DataError(f"{path}: maps of shape {maps.shape} are not finite [methods, images, H, W]")
        scalars = {"model_name", "model_version", "target_layer", "explain"}
        values: dict[str, Any] = {
            field.name: str(arrays[field.name]) if field.name in scalars else arrays[field.name] for field in fields(cls)
        }
        return cls(**values)

    @property
    def method_names(self) -> list[str]:
        return [str(method) for method in self.methods]

    @property
    def marker_planted(self) -> bool:
        return not np.array_equal(self.images, self.clean_images)
