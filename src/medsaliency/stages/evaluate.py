"""``evaluate@<dataset>``: PIC, statistics, localisation and sanity of every explained model.

For each model of ``registry.json``'s ``top_k`` it reads the attribute stage's maps file,
reloads the model through its ``champion`` alias and writes:

- ``outputs/evaluate/<dataset>/metrics/<model>.json``: the metrics of
  :mod:`medsaliency.evaluation.summary`, nested by measure (DVC metrics; NaN written as null);
- ``outputs/plots/<dataset>/<model>.aic.csv`` / ``.sic.csv``: the aggregated curves, column
  ``information`` and one column per method (DVC plots, defined at the top of dvc.yaml);
- ``outputs/evaluate/<dataset>/details/<model>.per_image.csv`` and ``<model>.curves.npz``.

The same numbers go into the model's explanation run (found by the maps file's md5), with the
AIC and SIC figures, a strip of blurred images per method and the per-image table.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medsaliency.atomic import staged_directory
from medsaliency.config import Params, load_params
from medsaliency.errors import DataError
from medsaliency.npz import load_npz, save_npz
from medsaliency.paths import curves_dir, evaluation_details_dir, evaluation_metrics_dir, maps_file, registry_file
from medsaliency.stages.attribute import MAPS_MD5_TAG, load_champion, top_models

MAPS_KEYS = {"maps", "methods", "images", "clean_images", "masks", "markers", "ids", "labels", "explained_class", "probabilities", "model_name", "model_version", "target_layer", "explain"}
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
    pic: object
    curves: dict[str, dict[str, np.ndarray]]
    table: object
    strip: Strip | None


def run(dataset_name: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    from medsaliency.models.training import configure_runtime
    from medsaliency.tracking import configure_mlflow

    params = load_params(params_path)
    params.dataset(dataset_name)
    configure_runtime(params.train, params.seed)
    configure_mlflow(params.mlflow, root)
    models = top_models(root / registry_file(dataset_name))
    with (
        staged_directory(root / evaluation_metrics_dir(dataset_name)) as metrics_folder,
        staged_directory(root / curves_dir(dataset_name)) as curves_folder,
        staged_directory(root / evaluation_details_dir(dataset_name)) as details_folder,
    ):
        for entry in models:
            path = root / maps_file(dataset_name, entry["name"])
            arrays = load_maps(path)
            run_id = explanation_run(dataset_name, path)
            evaluation = evaluate_model(arrays, params, dataset_name)
            write_outputs(entry["name"], evaluation, metrics_folder, curves_folder, details_folder)
            log_evaluation(run_id, entry["name"], arrays, evaluation, params, dataset_name)
            print(f"{entry['name']}: " + ", ".join(f"{m} SIC {evaluation.metrics[f'sic_auc.{m}']:.3f}" for m in arrays["methods"]))
    return 0


def load_maps(path: Path) -> dict[str, np.ndarray]:
    """The attribute stage's arrays for one model, checked for completeness and finite maps."""
    if not path.is_file():
        raise DataError(f"{path}: maps not found; run the attribute stage")
    arrays = load_npz(path)
    missing = MAPS_KEYS - set(arrays)
    if missing:
        raise DataError(f"{path}: missing array(s) {', '.join(sorted(missing))}; re-run the attribute stage")
    if arrays["maps"].shape[:2] != (len(arrays["methods"]), len(arrays["ids"])) or not np.isfinite(arrays["maps"]).all():
        raise DataError(f"{path}: maps of shape {arrays['maps'].shape} are not finite [methods, images, H, W]")
    return arrays


def explanation_run(dataset_name: str, maps_path: Path) -> str:
    """The id of the newest explanation run that logged exactly this maps file."""
    import mlflow

    from medsaliency.tracking import experiment_name

    digest = hashlib.md5(maps_path.read_bytes()).hexdigest()
    experiment = experiment_name(dataset_name, "explain")
    runs = mlflow.search_runs(experiment_names=[experiment], filter_string=f"tags.{MAPS_MD5_TAG} = '{digest}'", order_by=["attributes.start_time DESC"], output_format="list")
    if not runs:
        raise DataError(f"{maps_path}: no run in MLflow experiment {experiment!r} logged these maps; run `dvc repro -f attribute@{dataset_name}`")
    return runs[0].info.run_id


def evaluate_model(arrays: dict[str, np.ndarray], params: Params, dataset_name: str) -> ModelEvaluation:
    """PIC, statistics, localisation (lesion masks only) and sanity for one maps file."""
    from medsaliency.attribution.explained_model import ExplainedModel
    from medsaliency.evaluation import localization
    from medsaliency.evaluation.pic import CURVES, aggregate, compute_pic
    from medsaliency.evaluation.summary import per_image_table, pic_metrics, score_metrics, shortcut_metrics

    config = params.evaluation
    methods = [str(method) for method in arrays["methods"]]
    model = load_champion(str(arrays["model_name"]), str(arrays["model_version"]), dataset_name)
    explained = ExplainedModel(model, str(arrays["target_layer"]))
    maps = arrays["maps"]
    progress = _Progress(f"{arrays['model_name']}: PIC", len(arrays["ids"]))
    masks = random_masks(arrays, params)
    pic = compute_pic(
        arrays["images"], maps, arrays["labels"], arrays["explained_class"], explained.probabilities,
        pic_settings(params), masks, workers=config.workers, progress=progress,
    )  # fmt: skip
    metrics = pic_metrics(pic, methods, config)
    curves = {kind: {m: aggregate(pic.curves[kind][i], pic.x, config.aggregate)[0] for i, m in enumerate(methods)} for kind in CURVES}
    scores = {}
    if params.dataset(dataset_name).mask_kind == "lesion":
        scores["pointing_game"] = {m: localization.pointing_game(maps[i], arrays["masks"]) for i, m in enumerate(methods)}
        scores["mass_in_mask"] = {m: localization.mass_in_mask(maps[i], arrays["masks"]) for i, m in enumerate(methods)}
        scores["top_iou"] = {m: localization.top_fraction_iou(maps[i], arrays["masks"], config.top_fraction) for i, m in enumerate(methods)}
    scores["marker_mass"] = {m: localization.mass_in_mask(maps[i], arrays["markers"]) for i, m in enumerate(methods)}
    scores["sanity_ssim"] = sanity_scores(model, arrays, params)
    for name, by_method in scores.items():
        metrics.update(score_metrics(name, by_method, config, test_against_random=name != "sanity_ssim"))
    planted = not np.array_equal(arrays["images"], arrays["clean_images"])
    metrics.update(shortcut_metrics(arrays["labels"], arrays["probabilities"], explained.probabilities(arrays["clean_images"]), planted))
    table = per_image_table(arrays["ids"], arrays["labels"], arrays["explained_class"], methods, pic, scores)
    return ModelEvaluation(metrics, pic, curves, table, blurred_strip_data(explained, arrays, pic, masks, params))


def pic_settings(params: Params):
    from medsaliency.evaluation.pic import PicSettings

    config = params.evaluation
    return PicSettings(tuple(config.thresholds), config.entropy, config.random_mask_fraction, config.min_pred_value, config.keep_monotonous, config.num_points)


def random_masks(arrays: dict[str, np.ndarray], params: Params) -> np.ndarray:
    """One seeded random pixel mask per image (by its id), shared by every method and model."""
    from medsaliency.attribution.methods import image_seeds
    from medsaliency.evaluation.blur import random_pixel_mask

    height, width = arrays["maps"].shape[2:]
    seeds = image_seeds(params.evaluation.seed, arrays["ids"])
    return np.stack([random_pixel_mask(height, width, params.evaluation.random_mask_fraction, np.random.default_rng(int(seed))) for seed in seeds])


def sanity_scores(model, arrays: dict[str, np.ndarray], params: Params) -> dict[str, np.ndarray]:
    """SSIM ``[N]`` per sanity method between the trained model's maps and the randomised model's."""
    from medsaliency.attribution.explained_model import ExplainedModel
    from medsaliency.attribution.methods import compute_maps, image_seeds
    from medsaliency.evaluation.sanity import map_similarity, randomized_copy

    methods = [str(m) for m in arrays["methods"]]
    chosen = [m for m in params.evaluation.sanity_methods if m in methods]
    if not chosen:
        return {}
    randomized = ExplainedModel(randomized_copy(model, params.evaluation.seed), str(arrays["target_layer"]))
    config = params.attribution.model_copy(update={"methods": chosen})
    seeds = image_seeds(params.attribution.seed, arrays["ids"])
    random_maps = compute_maps(randomized, arrays["images"], arrays["explained_class"], config, seeds).maps
    return {m: map_similarity(arrays["maps"][methods.index(m)], random_maps[m]) for m in chosen}


def write_outputs(name: str, evaluation: ModelEvaluation, metrics_folder: Path, curves_folder: Path, details_folder: Path) -> None:
    """The DVC outputs of one model (metrics JSON, curve CSVs, per-image table and curves)."""
    import pandas as pd

    from medsaliency.evaluation.pic import CURVES

    (metrics_folder / f"{name}.json").write_text(json.dumps(nest(evaluation.metrics), indent=2, sort_keys=True) + "\n")
    pic = evaluation.pic
    for kind in CURVES:
        pd.DataFrame({"information": pic.x, **evaluation.curves[kind]}).to_csv(curves_folder / f"{name}.{kind}.csv", index=False, float_format="%.6f")
    evaluation.table.to_csv(details_folder / f"{name}.per_image.csv", index=False, float_format="%.6f")
    save_npz(details_folder / f"{name}.curves.npz", x=pic.x, methods=np.array(list(evaluation.curves["aic"])), **{f"{kind}_curves": pic.curves[kind] for kind in CURVES}, **{f"{kind}_auc": pic.auc[kind] for kind in CURVES})


def nest(metrics: dict[str, float]) -> dict:
    """``{"a.b": 1}`` -> ``{"a": {"b": 1}}``; NaN becomes None (JSON has no NaN)."""
    tree: dict = {}
    for key, value in metrics.items():
        *parents, leaf = key.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = None if isinstance(value, float) and math.isnan(value) else value
    return tree


def log_evaluation(run_id: str, name: str, arrays: dict[str, np.ndarray], evaluation: ModelEvaluation, params: Params, dataset_name: str) -> None:
    """Metrics, curve figures, the blurred strip and the tables into the model's explanation run."""
    import mlflow

    with mlflow.start_run(run_id=run_id), tempfile.TemporaryDirectory() as scratch:
        mlflow.log_metrics(evaluation.metrics)  # NaN too: an AUC with every image excluded still has its column
        mlflow.log_params({"evaluation.entropy": params.evaluation.entropy, "evaluation.aggregate": params.evaluation.aggregate, "evaluation.min_pred_value": params.evaluation.min_pred_value})
        for path in _figures(name, arrays, evaluation, params, Path(scratch)):
            mlflow.log_artifact(str(path), "evaluation")
        table = Path(scratch) / "per_image.csv"
        evaluation.table.to_csv(table, index=False)
        mlflow.log_artifact(str(table), "evaluation")


def _figures(name: str, arrays: dict[str, np.ndarray], evaluation: ModelEvaluation, params: Params, folder: Path) -> list[Path]:
    from medsaliency.attribution.methods import LABELS
    from medsaliency.evaluation.pic import CURVES
    from medsaliency.viz import blurred_strip, information_curves

    figures = []
    for kind in CURVES:
        curves = evaluation.curves[kind]
        aucs = {m: evaluation.metrics[f"{kind}_auc.{m}"] for m in curves}
        figures.append(information_curves(evaluation.pic.x, curves, aucs, LABELS, f"{name}: aggregated {kind.upper()} ({params.evaluation.aggregate})", folder / f"{kind}.png"))
    strip = evaluation.strip
    if strip is not None:
        labels = [LABELS.get(str(m), str(m)) for m in arrays["methods"]]
        figures.append(blurred_strip(strip.images, strip.scores, strip.thresholds, labels, f"{name}: image {strip.image_id}, SIC score per threshold", folder / "blurred_strip.png"))
    return figures


def blurred_strip_data(explained, arrays: dict[str, np.ndarray], pic, masks: np.ndarray, params: Params) -> Strip | None:
    """The paper's appendix figure data for the first image SIC kept: per method, the blurred image
    at up to ``STRIP_THRESHOLDS`` thresholds and the explained class's probability on it."""
    from medsaliency.evaluation.pic import blurred_series, from_uint8, to_uint8

    kept = np.flatnonzero(~np.isnan(pic.auc["sic"]).any(axis=0))
    if not len(kept):
        return None
    n, thresholds = int(kept[0]), list(params.evaluation.thresholds)
    chosen = np.linspace(0, len(thresholds) - 1, min(STRIP_THRESHOLDS, len(thresholds))).round().astype(int)
    shown = tuple(thresholds[i] for i in chosen)
    series = blurred_series(to_uint8(arrays["images"][n]), arrays["maps"][:, n], masks[n], shown, params.evaluation.entropy)
    scores = explained.probabilities(from_uint8(series.images, arrays["images"].shape[-1]))[:, int(arrays["explained_class"][n])]
    images = series.images.reshape(len(arrays["methods"]), len(shown), *series.images.shape[1:])
    return Strip(str(arrays["ids"][n]), images, scores.reshape(images.shape[:2]), list(shown))


class _Progress:
    """Prints ``<label> i/n`` every few images."""

    def __init__(self, label: str, total: int):
        self.label, self.total = label, total

    def __call__(self, index: int) -> None:
        if index + 1 == self.total or (index + 1) % 5 == 0:
            print(f"{self.label} {index + 1}/{self.total}", flush=True)
