"""``evaluate@<dataset>``: PIC, statistics, localisation and sanity of every explained model.

For each model of ``registry.json``'s ``top_k`` it reads the attribute stage's
:class:`~medsaliency.io.artifacts.MapsFile`, checks that the ``champion`` alias still points at the
version that made it, runs :func:`~medsaliency.evaluation.model_evaluation.evaluate_model` on
``params.compute``'s runner (Dask workers load that version once each) and writes:

- ``outputs/evaluate/<dataset>/metrics/<model>.json``: the metrics of
  :mod:`medsaliency.evaluation.summary`, nested by measure (DVC metrics; NaN written as null);
- ``outputs/plots/<dataset>/<model>.aic.csv`` / ``.sic.csv``: the aggregated curves, column
  ``information`` and one column per method (DVC plots, defined at the top of dvc.yaml);
- ``outputs/evaluate/<dataset>/details/<model>.per_image.csv`` and ``<model>.curves.npz`` (PIC curves
  and AUCs per image, the mean insertion/deletion/ROAD curves per method).

The same numbers go to MLflow, laid out by :mod:`medsaliency.mlops.tracking_layout`: each method's measures
into its run nested under the model's explanation run (found by the maps file's md5), and into the
explanation run the image counts and exclusions, the AIC and SIC figures, the insertion/deletion/ROAD
curves, a strip of blurred images per method, the per-image table (``evaluation/per_image.parquet``),
each measure's seconds per image (``cost/<measure>_seconds_per_image``, MLflow only: timings would
make the DVC outputs differ run to run) and where the tasks ran (``evaluate.scheduler``,
``evaluate.scheduler_address``, ``evaluate.workers``). The registered version's description gets the
evaluation's headline (:mod:`medsaliency.mlops.model_card`).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from medsaliency.compute import Placement
from medsaliency.config import Params, load_params
from medsaliency.evaluation.measures import MEASURES, REMOVAL_CURVES
from medsaliency.evaluation.model_evaluation import ModelEvaluation
from medsaliency.evaluation.pic import CURVES
from medsaliency.io.artifacts import MapsFile, RegistryRecord
from medsaliency.io.atomic import staged_directory
from medsaliency.io.jsonfile import nested
from medsaliency.io.npz import save_npz
from medsaliency.io.paths import curves_dir, evaluation_details_dir, evaluation_metrics_dir, maps_file, registry_file

REMOVAL_TITLES = {kind: MEASURES[name].curve_title for kind, name in REMOVAL_CURVES.items()}
REMOVAL_AXES = {
    "insertion": "share of pixels inserted",
    "deletion": "share of pixels deleted",
    "road_morf": "share removed",
    "road_lerf": "share removed",
}


def run(dataset_name: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    from medsaliency.compute import describe, task_runner, worker_seconds
    from medsaliency.evaluation.model_evaluation import evaluate_model
    from medsaliency.mlops.model_source import champion_source
    from medsaliency.mlops.tracking import configure_mlflow, explanation_run

    params = load_params(params_path)
    mask_kind = params.dataset(dataset_name).mask_kind
    uri = configure_mlflow(params.mlflow, root)
    models = RegistryRecord.read(root / registry_file(dataset_name)).explained()
    with (
        staged_directory(root / evaluation_metrics_dir(dataset_name)) as metrics_folder,
        staged_directory(root / curves_dir(dataset_name)) as curves_folder,
        staged_directory(root / evaluation_details_dir(dataset_name)) as details_folder,
        task_runner(params.compute) as runner,
    ):
        print(f"{dataset_name}: {describe(runner.placement)}", flush=True)
        for entry in models:
            path = root / maps_file(dataset_name, entry.name)
            maps = MapsFile.read(path)
            run_id = explanation_run(dataset_name, path)
            source = champion_source(maps.model_name, maps.model_version, dataset_name, maps.target_layer, params, uri)
            start = time.perf_counter()
            evaluation = evaluate_model(maps, source, params, mask_kind, runner)
            print(worker_seconds(f"{entry.name}: evaluation", time.perf_counter() - start, runner.placement, len(maps.ids)), flush=True)
            write_outputs(entry.name, evaluation, metrics_folder, curves_folder, details_folder)
            log_evaluation(run_id, entry.name, maps, evaluation, params, runner.placement)
            print(f"{entry.name}: " + ", ".join(f"{m} SIC {evaluation.metrics[f'sic_auc.{m}']:.3f}" for m in maps.method_names))
            print(f"{entry.name}: seconds per image " + ", ".join(f"{k} {v:.2f}" for k, v in evaluation.seconds_per_image.items()))
    return 0


def write_outputs(name: str, evaluation: ModelEvaluation, metrics_folder: Path, curves_folder: Path, details_folder: Path) -> None:
    """The DVC outputs of one model (metrics JSON, curve CSVs, per-image table and curves)."""
    import pandas as pd

    (metrics_folder / f"{name}.json").write_text(json.dumps(nested(evaluation.metrics), indent=2, sort_keys=True) + "\n")
    pic = evaluation.pic
    for kind in CURVES:
        table = pd.DataFrame({"information": pic.x, **evaluation.curves[kind]})
        table.to_csv(curves_folder / f"{name}.{kind}.csv", index=False, float_format="%.6f")
    evaluation.table.to_csv(details_folder / f"{name}.per_image.csv", index=False, float_format="%.6f")
    save_npz(
        details_folder / f"{name}.curves.npz",
        x=pic.x,
        methods=np.array(list(evaluation.curves["aic"])),
        **{f"{kind}_curves": pic.curves[kind] for kind in CURVES},
        **{f"{kind}_auc": pic.auc[kind] for kind in CURVES},
        **{f"{kind}_x": curves.x for kind, curves in evaluation.removal.items()},
        **{f"{kind}_mean": np.stack(list(curves.by_method.values())) for kind, curves in evaluation.removal.items()},
    )


def log_evaluation(run_id: str, name: str, maps: MapsFile, evaluation: ModelEvaluation, params: Params, placement: Placement) -> None:
    """Each method's measures into its nested run; into the model's explanation run the model-level
    metrics, the costs, the figures, the per-image table (Parquet) and where the tasks ran; the
    evaluation's headline into the registered version's description."""
    import mlflow

    from medsaliency.attribution.methods import LABELS
    from medsaliency.mlops.method_runs import log_run_metrics, require_method_runs
    from medsaliency.mlops.model_card import EVALUATION, evaluation_headline
    from medsaliency.mlops.registry import ModelRegistry
    from medsaliency.mlops.tracking_layout import Metric, split_metrics

    split = split_metrics(evaluation.metrics, maps.method_names)
    for method, run in require_method_runs(run_id, maps.method_names).items():
        log_run_metrics(run, split.by_method[method])
    config = params.evaluation
    with mlflow.start_run(run_id=run_id), tempfile.TemporaryDirectory() as scratch:
        mlflow.set_tags(placement.tags("evaluate"))
        logged = {
            "evaluation.entropy": config.entropy,
            "evaluation.aggregate": config.aggregate,
            "evaluation.min_pred_value": config.min_pred_value,
            "evaluation.insertion_deletion": config.insertion_deletion.model_dump() if config.insertion_deletion else None,
            "evaluation.road": config.road.model_dump() if config.road else None,
            "evaluation.random_logit": config.random_logit,
            "evaluation.cascading": config.cascading.model_dump() if config.cascading else None,
        }
        mlflow.log_params(logged)
        for path in figures(name, maps, evaluation, params, Path(scratch)):
            mlflow.log_artifact(str(path), "evaluation")
        table = Path(scratch) / "per_image.parquet"
        evaluation.table.to_parquet(table, index=False)
        mlflow.log_artifact(str(table), "evaluation")
    costs = [Metric(f"cost/{measure}_seconds_per_image", value) for measure, value in evaluation.seconds_per_image.items()]
    log_run_metrics(run_id, [*costs, *split.model])  # last: method_runs.EVALUATED_METRIC marks the run as evaluated
    headline = evaluation_headline(evaluation.metrics, maps.method_names, LABELS, run_id)
    ModelRegistry().describe(maps.model_name, maps.model_version, EVALUATION, headline)


def figures(name: str, maps: MapsFile, evaluation: ModelEvaluation, params: Params, folder: Path) -> list[Path]:
    """The aggregated AIC and SIC curves and the blurred strip, as PNGs in ``folder``."""
    from medsaliency.attribution.methods import LABELS
    from medsaliency.reporting.figures import blurred_strip, cascading_similarity, information_curves, removal_curves

    paths = []
    for kind in CURVES:
        curves = evaluation.curves[kind]
        aucs = {m: evaluation.metrics[f"{kind}_auc.{m}"] for m in curves}
        title = f"{name}: aggregated {kind.upper()} ({params.evaluation.aggregate})"
        paths.append(information_curves(evaluation.pic.x, curves, aucs, LABELS, title, folder / f"{kind}.png"))
    if evaluation.removal:
        panels = {REMOVAL_TITLES[kind]: (curves.x, curves.by_method, REMOVAL_AXES[kind]) for kind, curves in evaluation.removal.items()}
        paths.append(removal_curves(panels, LABELS, f"{name}: insertion, deletion and ROAD", folder / "removal_curves.png"))
    if evaluation.cascading:
        title = f"{name}: cascading model randomisation"
        paths.append(cascading_similarity(evaluation.cascading, LABELS, title, folder / "cascading_randomisation.png"))
    strip = evaluation.strip
    if strip is not None:
        labels = [LABELS.get(m, m) for m in maps.method_names]
        title = f"{name}: image {strip.image_id}, SIC score per threshold"
        paths.append(blurred_strip(strip.images, strip.scores, strip.thresholds, labels, title, folder / "blurred_strip.png"))
    return paths
