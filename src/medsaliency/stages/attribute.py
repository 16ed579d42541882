"""``attribute@<dataset>``: saliency maps of the top-k registered models, saved and logged.

Reads ``outputs/register/<dataset>/registry.json`` (the ``top_k`` models and the champion
versions register resolved), loads each model through its ``champion`` alias, explains a
seeded, class-stratified sample of the test split with every configured method, and writes
``outputs/attribute/<dataset>/<model>.npz``:

- ``maps`` float32 ``[M, N, H, W]`` in the order of ``methods`` str ``[M]``;
- ``images`` float32 ``[N, H, W, C]`` (as the model saw them: planted marker included),
  ``clean_images`` (the same without the marker), ``masks`` and ``markers`` uint8 ``[N, H, W]``
  (lesion or lung mask; the class-coded marker region), ``ids`` str ``[N]``, ``labels`` int64
  ``[N]``, ``explained_class`` int32 ``[N]``, ``probabilities`` float32 ``[N, K]``;
- ``model_name``, ``model_version``, ``target_layer``, ``explain`` (str scalars).

Each model gets one MLflow run in ``<dataset>/explain`` tagged with the registered model's
name, version and alias and with the md5 of its maps file (how ``evaluate`` finds the run),
holding the method parameters, ``seconds_per_image.<method>`` and the heatmap grids. The
maps file holds no timings: it must hash the same when the same inputs are explained again.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medsaliency.atomic import staged_directory
from medsaliency.attribution.methods import Attributions
from medsaliency.config import AttributionConfig, Params, load_params
from medsaliency.errors import DataError
from medsaliency.jsonfile import read_json
from medsaliency.npz import load_npz, save_npz
from medsaliency.paths import attribution_dir, prepared_dir, registry_file

MAPS_MD5_TAG = "maps_md5"
GRID_ROWS = 6


@dataclass(frozen=True)
class Sample:
    """The explained test images: ``images`` and ``clean_images`` ``[N, H, W, C]``, ``masks`` and
    ``markers`` ``[N, H, W]``, ``labels``, ``ids``, ``seeds`` (see the maps file above)."""

    images: np.ndarray
    clean_images: np.ndarray
    masks: np.ndarray
    markers: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    seeds: np.ndarray


@dataclass(frozen=True)
class Explanation:
    """One model's result: the explained ``classes`` ``[N]``, ``probabilities`` ``[N, K]`` and the maps."""

    name: str
    version: str
    backbone: str
    target_layer: str
    classes: np.ndarray
    probabilities: np.ndarray
    attributions: Attributions


def run(dataset_name: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    from medsaliency.models.training import configure_runtime
    from medsaliency.tracking import configure_mlflow, ensure_experiment, experiment_name

    params = load_params(params_path)
    params.dataset(dataset_name)
    configure_runtime(params.train, params.seed)
    uri = configure_mlflow(params.mlflow, root)
    models = top_models(root / registry_file(dataset_name))
    sample = load_sample(dataset_name, params, root)
    experiment_id = ensure_experiment(experiment_name(dataset_name, "explain"), uri)
    print(f"{dataset_name}: explaining {len(sample.ids)} test images with {len(params.attribution.methods)} methods for {len(models)} model(s)")
    with staged_directory(root / attribution_dir(dataset_name)) as staging:
        for entry in models:
            explain_model(entry, sample, params, dataset_name, staging, experiment_id, root)
    return 0


def top_models(path: Path) -> list[dict]:
    """The ``models`` entries of the ``top_k`` names in a register output, best first."""
    registry = read_json(path, "not found; run the register stage first")
    try:
        entries = {entry["name"]: entry for entry in registry["models"]}
        return [entries[name] for name in registry["top_k"]]
    except (KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a register output ({exc.__class__.__name__}: {exc})") from None


def load_sample(dataset_name: str, params: Params, root: Path) -> Sample:
    """The seeded, class-stratified test images of ``params.attribution``."""
    from medsaliency.attribution.methods import image_seeds
    from medsaliency.attribution.selection import select_images

    path = root / prepared_dir(dataset_name) / "test.npz"
    test = load_npz(path)
    missing = {"x", "x_clean", "y", "mask", "marker", "ids"} - set(test)
    if missing:
        raise DataError(f"{path}: missing array(s) {', '.join(sorted(missing))}; re-run prepare")
    config = params.attribution
    chosen = select_images(test["y"], len(params.dataset(dataset_name).classes), config.images_per_class, config.seed)
    if not len(chosen):
        raise DataError(f"{path}: no test images to explain")
    ids = test["ids"][chosen]
    return Sample(
        images=test["x"][chosen].astype(np.float32), clean_images=test["x_clean"][chosen].astype(np.float32),
        masks=test["mask"][chosen], markers=test["marker"][chosen], labels=test["y"][chosen], ids=ids, seeds=image_seeds(config.seed, ids),
    )  # fmt: skip


def explain_model(entry: dict, sample: Sample, params: Params, dataset_name: str, folder: Path, experiment_id: str, root: Path) -> Path:
    """Maps of one registered model saved to ``folder/<name>.npz`` and logged to its own MLflow run."""
    from medsaliency.attribution.explained_model import ExplainedModel
    from medsaliency.attribution.methods import compute_maps, explained_classes

    config = params.attribution
    name, version, backbone = entry["name"], str(entry["champion_version"]), entry["backbone"]
    target_layer = config.target_layers.get(backbone) or _default_target_layer(backbone)
    explained = ExplainedModel(load_champion(name, version, dataset_name), target_layer)
    classes, probabilities = explained_classes(explained, sample.images, sample.labels, config.explain)
    progress = _Progress(f"{name} v{version}", len(config.methods))
    attributions = compute_maps(explained, sample.images, classes, config, sample.seeds, progress=progress)
    explanation = Explanation(name, version, backbone, target_layer, classes, probabilities, attributions)
    path = save_maps(explanation, sample, config, folder / f"{name}.npz")
    log_explanation(explanation, sample, params, dataset_name, path, experiment_id, root)
    return path


def save_maps(explanation: Explanation, sample: Sample, config: AttributionConfig, path: Path) -> Path:
    """The maps file described in this module's docstring."""
    save_npz(
        path, maps=np.stack([explanation.attributions.maps[m] for m in config.methods]), methods=np.array(config.methods),
        images=sample.images, clean_images=sample.clean_images, masks=sample.masks, markers=sample.markers,
        ids=sample.ids, labels=sample.labels,
        explained_class=explanation.classes, probabilities=explanation.probabilities,
        model_name=np.array(explanation.name), model_version=np.array(explanation.version),
        target_layer=np.array(explanation.target_layer), explain=np.array(config.explain),
    )  # fmt: skip
    return path


def load_champion(name: str, expected_version: str, dataset_name: str):
    """``models:/<name>@champion``, refused when the alias has moved since register wrote its output."""
    from medsaliency.registry import CHAMPION, ModelRegistry, load_registered_model

    current = ModelRegistry().alias_version(name, CHAMPION)
    if current != expected_version:
        raise DataError(
            f"{name}@{CHAMPION} is version {current} but {registry_file(dataset_name)} says {expected_version}: "
            f"run `dvc repro -f register@{dataset_name}` so the pipeline records the move"
        )
    return load_registered_model(name, CHAMPION)


def log_explanation(explanation: Explanation, sample: Sample, params: Params, dataset_name: str, maps_path: Path, experiment_id: str, root: Path) -> str:
    """One MLflow run: tags, method parameters, seconds per image and method, heatmap grids, the maps."""
    import mlflow

    from medsaliency.registry import CHAMPION
    from medsaliency.tracking import log_prepared_dataset, prepared_md5, run_tags

    tags = {
        **run_tags(dataset_name, "attribute", root, explanation.backbone),
        "registered_model_name": explanation.name, "registered_model_version": explanation.version,
        "registered_model_alias": CHAMPION, "target_layer": explanation.target_layer,
        MAPS_MD5_TAG: hashlib.md5(maps_path.read_bytes()).hexdigest(),
    }  # fmt: skip
    seconds = explanation.attributions.seconds_per_image
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"{explanation.name} v{explanation.version}", tags=tags) as run:
        log_prepared_dataset(run.info.run_id, dataset_name, prepared_md5(dataset_name, root), "test")
        mlflow.log_params({**flat_params(params.attribution), "n_images": len(sample.ids)})
        mlflow.log_metrics({f"seconds_per_image.{method}": value for method, value in seconds.items()})
        mlflow.log_metric("sample_accuracy", float(np.mean(explanation.probabilities.argmax(axis=1) == sample.labels)))
        dataset = params.dataset(dataset_name)
        with tempfile.TemporaryDirectory() as scratch:
            for index, rows in enumerate(_chunks(len(sample.ids), GRID_ROWS), start=1):
                grid = _grid(explanation, sample, rows, dataset.classes, dataset.mask_kind, Path(scratch) / f"grid_{index:02d}.png")
                mlflow.log_artifact(str(grid), "heatmaps")
        mlflow.log_artifact(str(maps_path), "maps")
        return run.info.run_id


def flat_params(config: AttributionConfig) -> dict[str, str]:
    """``attribution`` as flat MLflow params: ``guided_ig.x_steps`` -> ``25``; lists comma-joined."""
    flat = {}

    def visit(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                visit(f"{prefix}{key}.", item)
        else:
            flat[prefix.rstrip(".")] = ",".join(map(str, value)) if isinstance(value, list) else str(value)

    visit("", config.model_dump())
    return flat


def _grid(explanation: Explanation, sample: Sample, rows: np.ndarray, class_names: list[str], mask_kind: str, path: Path) -> Path:
    from medsaliency.attribution.methods import LABELS
    from medsaliency.viz import heatmap_grid

    classes, probabilities = explanation.classes, explanation.probabilities
    titles = [f"{class_names[sample.labels[i]]} {sample.ids[i]}\nexplains {class_names[classes[i]]} p={probabilities[i, classes[i]]:.2f}" for i in rows]
    maps = {method: method_maps[rows] for method, method_maps in explanation.attributions.maps.items()}
    return heatmap_grid(sample.images[rows], sample.masks[rows], maps, LABELS, titles, path, mask_label=mask_kind)


def _chunks(total: int, size: int) -> list[np.ndarray]:
    return [np.arange(start, min(start + size, total)) for start in range(0, total, size)]


def _default_target_layer(backbone: str) -> str:
    from medsaliency.models.backbones import backbone_spec

    return backbone_spec(backbone).target_layer


class _Progress:
    """Prints ``<model>: <method> (i/n)`` before each method."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0

    def __call__(self, method: str) -> None:
        self.done += 1
        print(f"{self.label}: {method} ({self.done}/{self.total})", flush=True)
