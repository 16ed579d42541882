"""``data_randomization@<dataset>``: the data randomisation test for every explained model.

For each model of ``registry.json``'s ``top_k`` it trains the champion's backbone with the best
trial's optimiser settings (``tune`` summary) for ``data_randomization.epochs`` on the training
split with shuffled labels
(:mod:`medsaliency.evaluation.shuffled_labels`), registers it as a version of
``<model>.data_randomized`` tagged ``never_promote`` (the registry refuses it any alias), computes
``data_randomization.methods``' maps of the same test images (the sample of
``evaluation.randomization_images_per_class``) for the same explained classes, and
compares them with the attribute stage's maps of the trained model. Writes
``outputs/data_randomization/<dataset>/<model>.json`` (DVC metrics: ``ssim`` and ``spearman`` per
method, mean with a bootstrap interval, ``train_accuracy_shuffled_labels``, ``test_accuracy``);
the same numbers, the hyperparameters and the model go to a run of the MLflow experiment
``<dataset>/data_randomization``.
"""

from __future__ import annotations

import json
from pathlib import Path

from medsaliency.config import Hyperparameters, Params, load_params
from medsaliency.io.artifacts import MapsFile, RegistryRecord, SplitArrays, TuneSummary
from medsaliency.io.atomic import staged_directory
from medsaliency.io.jsonfile import nested
from medsaliency.io.paths import data_randomization_dir, maps_file, prepared_dir, registry_file, tune_summary_file

EXPERIMENT_PURPOSE = "data_randomization"


def run(dataset_name: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    from medsaliency.evaluation.shuffled_labels import data_randomization_test
    from medsaliency.mlops.tracking import configure_mlflow

    params = load_params(params_path)
    configure_mlflow(params.mlflow, root)
    splits = {name: SplitArrays.read(root / prepared_dir(dataset_name) / f"{name}.npz") for name in ("train", "val")}
    with staged_directory(root / data_randomization_dir(dataset_name)) as folder:
        for entry in RegistryRecord.read(root / registry_file(dataset_name)).explained():
            maps = MapsFile.read(root / maps_file(dataset_name, entry.name))
            summary = TuneSummary.read(root / tune_summary_file(dataset_name, entry.backbone))
            hp = Hyperparameters(**summary.best_params)
            twin, metrics = data_randomization_test(maps, summary.backbone, hp, splits["train"], splits["val"], params)
            log_twin(dataset_name, entry.name, twin.model, maps, hp, metrics, params, root)
            (folder / f"{entry.name}.json").write_text(json.dumps(nested(metrics), indent=2, sort_keys=True) + "\n")
            ssim = ", ".join(f"{m} {metrics[f'ssim.{m}']:.3f}" for m in maps.method_names if f"ssim.{m}" in metrics)
            print(f"{entry.name}: shuffled-label model memorised {metrics['train_accuracy_shuffled_labels']:.2f}; SSIM {ssim}")
    return 0


def log_twin(dataset: str, name: str, model, maps: MapsFile, hp, metrics: dict[str, float], params: Params, root: Path) -> None:
    """The twin's run (hyperparameters, metrics, model) and its registered version, tagged ``never_promote``."""
    import mlflow

    from medsaliency.mlops.best_model import log_keras_model
    from medsaliency.mlops.registry import DATA_RANDOMIZED_SUFFIX, NEVER_PROMOTE_TAG, ModelRegistry
    from medsaliency.mlops.tracking import ensure_experiment, experiment_name, run_tags

    experiment = ensure_experiment(experiment_name(dataset, EXPERIMENT_PURPOSE), mlflow.get_tracking_uri())
    tags = {
        **run_tags(dataset, EXPERIMENT_PURPOSE, root, keras_backend=params.keras_backend),
        "explained_model": f"{name}/v{maps.model_version}",
    }
    with mlflow.start_run(experiment_id=experiment, run_name=f"{name} shuffled labels", tags=tags):
        mlflow.log_params({**{f"hp.{k}": v for k, v in hp.model_dump().items()}, "seed": params.data_randomization.seed})
        mlflow.log_metrics(metrics)
        info = log_keras_model(model, maps.images[:2])
    version_tags = {**tags, NEVER_PROMOTE_TAG: "true", "data_randomization": "shuffled training labels"}
    twin_name = f"{name}.{DATA_RANDOMIZED_SUFFIX}"
    description = f"{name}'s architecture and hyperparameters trained on shuffled labels (data randomisation test); never promoted"
    version = ModelRegistry().register(twin_name, info.model_uri, version_tags, description)
    print(f"{name}: registered {twin_name} v{version} ({NEVER_PROMOTE_TAG})")
