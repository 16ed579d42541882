"""``attribute@<dataset>``: saliency maps of the top-k registered models, saved and logged.

Reads ``registry.json`` (:class:`~medsaliency.io.artifacts.RegistryRecord`) and the prepared test
split, checks that each explained model's ``champion`` alias still points at the recorded
version, explains the sample with every configured method on ``params.compute``'s runner (Dask
workers load that version once each; :mod:`medsaliency.compute`) and writes one :class:`~medsaliency.io.artifacts.MapsFile` per model to
``outputs/attribute/<dataset>/<model>.npz``. Each model gets one MLflow run in
``<dataset>/explain`` (tag ``role = explanation``) tagged with the registered model's name, version
and alias, with the md5 of its maps file (how ``evaluate`` finds the run) and with where its tasks
ran (``attribute.scheduler``, ``attribute.scheduler_address``, ``attribute.workers``), holding the
method options, the champion's test macro-F1 and the heatmap grids; nested under it, one run per
method (:mod:`medsaliency.mlops.method_runs`) with its ``cost/seconds_per_image``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from medsaliency.attribution.explanation import Explanation, Sample
from medsaliency.compute import Placement
from medsaliency.config import Params, load_params
from medsaliency.io.artifacts import RegistryRecord
from medsaliency.io.atomic import staged_directory
from medsaliency.io.npz import load_npz
from medsaliency.io.paths import attribution_dir, prepared_dir, registry_file

GRID_ROWS = 6


def run(dataset_name: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    from medsaliency.attribution.explanation import choose_sample, explain, target_layer
    from medsaliency.compute import describe, task_runner, worker_seconds
    from medsaliency.mlops.model_source import champion_source
    from medsaliency.mlops.tracking import configure_mlflow, ensure_experiment, experiment_name

    params = load_params(params_path)
    dataset, config = params.dataset(dataset_name), params.attribution
    uri = configure_mlflow(params.mlflow, root)
    models = RegistryRecord.read(root / registry_file(dataset_name)).explained()
    test_path = root / prepared_dir(dataset_name) / "test.npz"
    sample = choose_sample(load_npz(test_path), len(dataset.classes), config, source=str(test_path))
    experiment_id = ensure_experiment(experiment_name(dataset_name, "explain"), uri)
    print(f"{dataset_name}: explaining {len(sample.ids)} test images with {len(config.methods)} methods for {len(models)} model(s)")
    with staged_directory(root / attribution_dir(dataset_name)) as staging, task_runner(params.compute) as runner:
        print(f"{dataset_name}: {describe(runner.placement)}", flush=True)
        for entry in models:
            layer = target_layer(entry.backbone, config)
            source = champion_source(entry.name, entry.champion, dataset_name, layer, params, uri)
            start = time.perf_counter()
            explanation = explain(source, entry, sample, config, runner, params.compute)
            print(worker_seconds(f"{entry.name}: attribution", time.perf_counter() - start, runner.placement, len(sample.ids)), flush=True)
            path = explanation.maps_file(sample, config).write(staging / f"{entry.name}.npz")
            log_explanation(explanation, sample, params, dataset_name, path, experiment_id, root, runner.placement, entry.champion_macro_f1)
    return 0


def log_explanation(
    explanation: Explanation,
    sample: Sample,
    params: Params,
    dataset_name: str,
    maps_path: Path,
    experiment_id: str,
    root: Path,
    placement: Placement,
    test_macro_f1: float | None = None,
) -> str:
    """The model's explanation run (tags with where the tasks ran, method options, the champion's test
    macro-F1, the heatmap grids, the maps) and one nested run per method (:mod:`medsaliency.mlops.method_runs`)
    with its ``cost/seconds_per_image`` (summed over workers). Returns the explanation run's id."""
    import mlflow

    from medsaliency.attribution.methods import LABELS
    from medsaliency.mlops.method_runs import start_method_runs
    from medsaliency.mlops.registry import CHAMPION
    from medsaliency.mlops.tracking import (
        EXPLANATION_ROLE,
        MAPS_MD5_TAG,
        ROLE_TAG,
        log_prepared_dataset,
        maps_md5,
        prepared_md5,
        run_tags,
    )
    from medsaliency.mlops.tracking_layout import Metric

    common = run_tags(dataset_name, "attribute", root, explanation.backbone, params.keras_backend)
    tags = {
        **common,
        **placement.tags("attribute"),
        ROLE_TAG: EXPLANATION_ROLE,
        "registered_model_name": explanation.name,
        "registered_model_version": explanation.version,
        "registered_model_alias": CHAMPION,
        "target_layer": explanation.target_layer,
        MAPS_MD5_TAG: maps_md5(maps_path),
    }
    seconds = explanation.attributions.seconds_per_image
    accuracy = float(np.mean(explanation.probabilities.argmax(axis=1) == sample.labels))
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"{explanation.name} v{explanation.version}", tags=tags) as run:
        log_prepared_dataset(run.info.run_id, dataset_name, prepared_md5(dataset_name, root), "test")
        mlflow.log_params({**flat_params(params.attribution), "n_images": len(sample.ids)})
        mlflow.log_metrics(
            {"cost/attribution_seconds_per_image": float(sum(seconds.values())), "classification/sample_accuracy": accuracy}
            | ({"classification/test_macro_f1": test_macro_f1} if test_macro_f1 is not None else {})
        )
        with tempfile.TemporaryDirectory() as scratch:
            for path in heatmap_grids(explanation, sample, params, dataset_name, Path(scratch)):
                mlflow.log_artifact(str(path), "heatmaps")
        mlflow.log_artifact(str(maps_path), "maps")
        shared: dict[str, str] = {
            "dataset": dataset_name,
            "model": explanation.name,
            "model_version": explanation.version,
            "backend": params.keras_backend,
            "seed": str(params.attribution.seed),
        }
        method_tags = {**common, "registered_model_name": explanation.name, "registered_model_version": explanation.version}
        costs = {method: [Metric("cost/seconds_per_image", value)] for method, value in seconds.items()}
        start_method_runs(run.info.run_id, shared, method_options(params.attribution), costs, LABELS, method_tags)
        return run.info.run_id


def flat_params(config) -> dict[str, str]:
    """``attribution`` as flat MLflow params: the settings and the option sections of the chosen
    methods (``guided_ig.x_steps`` -> ``25``); lists comma-joined."""
    from medsaliency.attribution.methods import METHODS, OPTIONS

    used = {section for method in config.methods for section in METHODS[method].options}
    flat = {}
    for key, value in config.model_dump().items():
        if isinstance(value, dict):
            if key in used or key not in OPTIONS:  # target_layers: one param per backbone
                flat.update({f"{key}.{option}": str(setting) for option, setting in value.items()})
        else:
            flat[key] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return flat


def method_options(config) -> dict[str, dict[str, str]]:
    """Each chosen method's option sections as flat params (``smoothgrad.nsamples`` -> ``25``), in method order."""
    from medsaliency.attribution.methods import METHODS

    sections = config.model_dump()
    return {
        method: {f"{section}.{option}": str(value) for section in METHODS[method].options for option, value in sections[section].items()}
        for method in config.methods
    }


def heatmap_grids(explanation: Explanation, sample: Sample, params: Params, dataset_name: str, folder: Path) -> list[Path]:
    """PNG grids of ``GRID_ROWS`` images each (rows = images with the mask contour, columns = methods)."""
    from medsaliency.attribution.methods import LABELS
    from medsaliency.reporting.figures import heatmap_grid

    dataset = params.dataset(dataset_name)
    classes, probabilities = explanation.classes, explanation.probabilities
    grids = []
    for index, start in enumerate(range(0, len(sample.ids), GRID_ROWS), start=1):
        rows = np.arange(start, min(start + GRID_ROWS, len(sample.ids)))
        names = dataset.classes
        titles = [
            f"{names[sample.labels[i]]} {sample.ids[i]}\nexplains {names[classes[i]]} p={probabilities[i, classes[i]]:.2f}" for i in rows
        ]
        maps = {method: method_maps[rows] for method, method_maps in explanation.attributions.maps.items()}
        path = folder / f"grid_{index:02d}.png"
        grids.append(heatmap_grid(sample.images[rows], sample.masks[rows], maps, LABELS, titles, path, mask_label=dataset.mask_kind))
    return grids
