"""``replicates@<dataset>``: which method orderings hold across independently trained models.

For each model of ``registry.json``'s ``top_k`` it trains the champion's configuration (the
backbone with the best trial's hyperparameters, ``tune`` summary) ``replicates.count`` more times,
seeds ``replicates.seed + k`` (:class:`TrainingGate`: a replicate below ``replicates.min_val_macro_f1``
on validation is logged as rejected and the next seed trained instead); logs and registers each (:mod:`medsaliency.mlops.replicates`: run
param ``seed``, version of ``<model>.replicate`` tagged ``never_promote``); explains the same test
images with every method and scores every per-image measure on ``params.compute``'s runner, as
``attribute`` and ``evaluate`` do for the champion (the re-attribution tests stay the champion's).
With the champion's own per-image table (``evaluate``), the statistics of
:mod:`medsaliency.evaluation.replicates` run over all of these models. Writes to
``outputs/replicates/<dataset>/``:

- ``details/<model>.seed-<seed>.per_image.csv``: each replicate's per-image table (as ``evaluate``'s);
- ``details/<model>.statistics.json``: per measure the full statistics (means, intervals, P(A beats B),
  Nemenyi), which the report reads;
- ``metrics/<model>.json``: the number of models, each replicate's scores (validation macro-F1, test),
  the seeds the training gate ``rejected`` and their scores, the **seed floor**
  (per method the mean SSIM and Spearman correlation between the champion's maps and a replicate's,
  on the images both explain for the same class: what two equally good models share, the reference
  the randomisation tests lack) and, per measure, the summary (W, Friedman p, test-retest tau,
  alpha, ordered pairs; DVC metrics).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from medsaliency.attribution.explanation import Sample
from medsaliency.compute import TaskRunner
from medsaliency.config import Hyperparameters, Params, ReplicatesConfig, load_params
from medsaliency.errors import DataError
from medsaliency.io.artifacts import MapsFile, RegisteredModel, RegistryRecord, SplitArrays, TuneSummary
from medsaliency.io.atomic import staged_directory
from medsaliency.io.npz import load_npz
from medsaliency.io.paths import (
    evaluation_details_dir,
    maps_file,
    prepared_dir,
    registry_file,
    replicates_details_dir,
    replicates_metrics_dir,
    tune_summary_file,
)

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ReplicateJob:
    """What every replicate of one explained model shares: the dataset, the champion's record and tune
    summary, the training splits, the test arrays and the explained sample, the params, the MLflow
    store, the task runner and the project root."""

    dataset: str
    entry: RegisteredModel
    summary: TuneSummary
    champion_maps: MapsFile
    splits: dict[str, SplitArrays]
    test: dict[str, np.ndarray]
    sample: Sample
    params: Params
    tracking_uri: str
    runner: TaskRunner
    root: Path


def run(dataset_name: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    import pandas as pd

    from medsaliency.attribution.explanation import choose_sample
    from medsaliency.compute import describe, task_runner
    from medsaliency.evaluation.replicates import mean_floor, replicate_statistics
    from medsaliency.mlops.tracking import configure_mlflow

    params = load_params(params_path)
    uri = configure_mlflow(params.mlflow, root)
    dataset = params.dataset(dataset_name)
    splits = {name: SplitArrays.read(root / prepared_dir(dataset_name) / f"{name}.npz") for name in ("train", "val")}
    test_path = root / prepared_dir(dataset_name) / "test.npz"
    test = load_npz(test_path)
    sample = choose_sample(test, len(dataset.classes), params.attribution, source=str(test_path))
    bootstrap = params.evaluation.bootstrap
    with (
        staged_directory(root / replicates_metrics_dir(dataset_name)) as metrics_folder,
        staged_directory(root / replicates_details_dir(dataset_name)) as details_folder,
        task_runner(params.compute) as runner,
    ):
        print(f"{dataset_name}: {params.replicates.count} replicate(s) per explained model; {describe(runner.placement)}", flush=True)
        for entry in RegistryRecord.read(root / registry_file(dataset_name)).explained():
            summary = TuneSummary.read(root / tune_summary_file(dataset_name, entry.backbone))
            champion_maps = MapsFile.read(root / maps_file(dataset_name, entry.name))
            job = ReplicateJob(dataset_name, entry, summary, champion_maps, splits, test, sample, params, uri, runner, root)
            champion = pd.read_csv(root / evaluation_details_dir(dataset_name) / f"{entry.name}.per_image.csv", dtype={"id": str})
            tables, scores, floors = [champion], {}, []
            gate = TrainingGate(params.replicates, entry.name)
            for seed in gate.seeds():
                model, trained = trained_replicate(job, seed)
                if not gate.admits(seed, trained):
                    log_rejected_replicate(job, seed, trained)
                    continue
                table, floor = replicate(job, seed, model, trained)
                table.to_csv(details_folder / f"{entry.name}.seed-{seed}.per_image.csv", index=False, float_format="%.6f")
                scores[str(seed)] = trained
                tables.append(table)
                floors.append(floor)
            methods = list(params.attribution.methods)
            statistics = replicate_statistics(
                tables, methods, sample.ids, sample.patient_ids, bootstrap.resamples, bootstrap.confidence, bootstrap.seed
            )
            records = {name: stats.record() for name, stats in statistics.items()}
            write_json(details_folder / f"{entry.name}.statistics.json", records)
            metrics = {
                "models": len(tables),
                "replicates": scores,
                "rejected": gate.rejected,
                "seed_floor": mean_floor(floors),
                **{name: stats.summary() for name, stats in statistics.items()},
            }
            write_json(metrics_folder / f"{entry.name}.json", metrics)
            for name, stats in statistics.items():
                best = ", ".join(stats.best()) or "none"
                print(f"{entry.name}, {len(tables)} models, {name}: W {stats.kendall_w:.2f}, tau {stats.retest_tau:.2f}, best {best}")
    return 0


@dataclass
class TrainingGate:
    """Which replicates of ``model`` count: a replicate whose validation macro-F1 is below
    ``config.min_val_macro_f1`` did not learn, so it is ``rejected`` (seed -> its scores) and another
    seed trained in its place (:meth:`seeds` runs on while fewer than ``config.count`` are admitted)."""

    config: ReplicatesConfig
    model: str
    admitted: int = 0
    rejected: dict[str, dict[str, float]] = field(default_factory=dict)

    def seeds(self) -> Iterator[int]:
        """``config.seed``, ``+ 1``, ... until ``config.count`` replicates are admitted."""
        seed = self.config.seed
        while self.admitted < self.config.count:
            yield seed
            seed += 1

    def admits(self, seed: int, scores: dict[str, float]) -> bool:
        """Whether the replicate of ``seed`` with ``scores`` (``val_macro_f1``, ...) counts. Raises
        :class:`~medsaliency.errors.DataError` naming the rejected seeds once more than
        ``config.max_rejected`` are rejected."""
        if scores["val_macro_f1"] >= self.config.min_val_macro_f1:
            self.admitted += 1
            return True
        self.rejected[str(seed)] = scores
        print(f"{self.model} seed {seed}: rejected, validation macro-F1 {scores['val_macro_f1']:.3f}", flush=True)
        if len(self.rejected) > self.config.max_rejected:
            found = ", ".join(f"{s} ({r['val_macro_f1']:.3f})" for s, r in self.rejected.items())
            raise DataError(
                f"replicates of {self.model}: seeds {found} stayed below replicates.min_val_macro_f1 = "
                f"{self.config.min_val_macro_f1} (validation macro-F1), more than replicates.max_rejected = "
                f"{self.config.max_rejected}: the configuration does not train reliably; raise max_rejected or look at the runs "
                "of the replicates experiment"
            )
        return False


def replicate(
    job: ReplicateJob, seed: int, model: object, test_scores: dict[str, float]
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """One admitted replicate, trained with ``seed`` (``model``, its ``test_scores``): logged and registered,
    explained and scored. Returns its per-image table and its maps' similarity to the champion's
    (:func:`~medsaliency.evaluation.replicates.seed_floor`)."""
    from medsaliency.attribution.explanation import explain, target_layer
    from medsaliency.compute import worker_seconds
    from medsaliency.evaluation.model_evaluation import evaluate_model
    from medsaliency.evaluation.replicates import seed_floor
    from medsaliency.mlops.model_source import RegisteredModelSource
    from medsaliency.mlops.replicates import log_replicate, log_replicate_measures

    params, sample, backbone = job.params, job.sample, job.summary.backbone
    version = log_replicate(
        job.dataset, job.entry.name, backbone, model, _hyperparameters(job), seed, test_scores, sample.images[:2], params, job.root
    )
    print(
        f"{version.name} v{version.version} (seed {seed}): test macro-F1 {test_scores['macro_f1']:.3f}, lowest class recall "
        f"{test_scores['lowest_class_recall']:.3f}",
        flush=True,
    )
    layer = target_layer(backbone, params.attribution)
    source = RegisteredModelSource(version.uri, job.tracking_uri, layer, params.keras_backend, params.train, params.seed)
    record = RegisteredModel(version.name, backbone, version.version, version.version, test_scores["macro_f1"])
    start = time.perf_counter()
    maps = explain(source, record, sample, params.attribution, job.runner, params.compute).maps_file(sample, params.attribution)
    per_image = params.model_copy(update={"evaluation": params.evaluation.per_image_only()})
    evaluation = evaluate_model(maps, source, per_image, params.dataset(job.dataset).mask_kind, job.runner)
    seconds = time.perf_counter() - start
    print(worker_seconds(f"{version.name} v{version.version}: attribution and evaluation", seconds, job.runner.placement, len(sample.ids)))
    floor = seed_floor(job.champion_maps, maps)
    similarity = {f"seed_floor_{measure}.{m}": value for measure, by_method in floor.items() for m, value in by_method.items()}
    log_replicate_measures(version.run_id, {**evaluation.metrics, **similarity})
    return evaluation.table, floor


def trained_replicate(job: ReplicateJob, seed: int) -> tuple[object, dict[str, float]]:
    """The champion's configuration trained with ``seed``, its validation macro-F1 (``val_macro_f1``, the
    training gate's) and held-out test scores (``macro_f1``, ``accuracy``, ``lowest_class_recall``)."""
    from medsaliency.models.metrics import classification_metrics
    from medsaliency.models.training import predict_probabilities, train_model

    params, backbone, classes = job.params, job.summary.backbone, list(job.params.dataset(job.dataset).classes)
    train, val = job.splits["train"], job.splits["val"]
    start = time.perf_counter()
    model = train_model(
        backbone, params.backbone(backbone), _hyperparameters(job), (train.x, train.y), (val.x, val.y), len(classes), params.train, seed
    )
    scores = classification_metrics(job.test["y"], predict_probabilities(model, job.test["x"]), classes)
    validation = classification_metrics(val.y, predict_probabilities(model, val.x), classes)
    recalls = [value for key, value in scores.items() if key.startswith("recall.")]
    print(f"{job.entry.name} seed {seed}: trained in {time.perf_counter() - start:.0f} s", flush=True)
    return model, {
        "val_macro_f1": validation["macro_f1"],
        "macro_f1": scores["macro_f1"],
        "accuracy": scores["accuracy"],
        "lowest_class_recall": min(recalls),
    }


def log_rejected_replicate(job: ReplicateJob, seed: int, scores: dict[str, float]) -> None:
    """A run for the replicate the training gate rejected (seed, hyperparameters, scores; no model)."""
    from medsaliency.mlops.replicates import log_rejected

    log_rejected(job.dataset, job.entry.name, job.summary.backbone, _hyperparameters(job), seed, scores, job.params, job.root)


def _hyperparameters(job: ReplicateJob) -> Hyperparameters:
    return Hyperparameters(**job.summary.best_params)


def write_json(path: Path, record: dict) -> None:
    path.write_text(json.dumps(record, indent=2, sort_keys=True, allow_nan=False) + "\n")
