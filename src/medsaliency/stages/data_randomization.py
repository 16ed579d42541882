"""``data_randomization@<dataset>``: the data randomisation test for every explained model.

For each model of ``registry.json``'s ``top_k`` it trains the champion's backbone with the best
trial's optimiser settings (``tune`` summary) for ``data_randomization.epochs`` on the training
split with shuffled labels
(:mod:`medsaliency.evaluation.data_randomization`), registers it as a version of
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

import numpy as np

from medsaliency.artifacts import MapsFile, RegistryRecord, TuneSummary
from medsaliency.atomic import staged_directory
from medsaliency.config import Params, chosen_methods, load_params
from medsaliency.jsonfile import nested
from medsaliency.paths import data_randomization_dir, maps_file, prepared_dir, registry_file, tune_summary_file

EXPERIMENT_PURPOSE = "data_randomization"


def run(dataset_name: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    from medsaliency.tracking import configure_mlflow
    from medsaliency.tuning import SplitArrays

    params = load_params(params_path)
    configure_mlflow(params.mlflow, root)
    splits = {name: SplitArrays.read(root / prepared_dir(dataset_name) / f"{name}.npz") for name in ("train", "val")}
    with staged_directory(root / data_randomization_dir(dataset_name)) as folder:
        for entry in RegistryRecord.read(root / registry_file(dataset_name)).explained():
            maps = MapsFile.read(root / maps_file(dataset_name, entry.name))
            summary = TuneSummary.read(root / tune_summary_file(dataset_name, entry.backbone))
            metrics = test_model(dataset_name, entry.name, maps, summary, splits, params, root)
            (folder / f"{entry.name}.json").write_text(json.dumps(nested(metrics), indent=2, sort_keys=True) + "\n")
            ssim = ", ".join(f"{m} {metrics[f'ssim.{m}']:.3f}" for m in maps.method_names if f"ssim.{m}" in metrics)
            print(f"{entry.name}: shuffled-label model memorised {metrics['train_accuracy_shuffled_labels']:.2f}; SSIM {ssim}")
    return 0


def test_model(dataset: str, name: str, maps: MapsFile, summary: TuneSummary, splits: dict, params: Params, root: Path) -> dict[str, float]:
    """Train, register and compare the shuffled-label twin of ``name``; its flat metrics."""
    from medsaliency.attribution.explained_model import ExplainedModel
    from medsaliency.attribution.methods import compute_maps, image_seeds
    from medsaliency.config import Hyperparameters
    from medsaliency.evaluation.data_randomization import compare_maps, train_on_shuffled_labels
    from medsaliency.evaluation.sanity import randomization_sample
    from medsaliency.evaluation.summary import score_metrics
    from medsaliency.models.training import predict_probabilities

    config = params.data_randomization
    hp = Hyperparameters(**summary.best_params)
    n_classes = maps.probabilities.shape[1]
    train, val = splits["train"], splits["val"]
    twin = train_on_shuffled_labels(summary.backbone, hp, (train.x, train.y), (val.x, val.y), n_classes, config.epochs, params, config.seed)
    methods = chosen_methods(config.methods, maps.method_names)
    attribution = params.attribution.model_copy(update={"methods": methods})
    sample = randomization_sample(maps, params.evaluation)
    images, classes = maps.images[sample], maps.explained_class[sample]
    seeds = image_seeds(params.attribution.seed, maps.ids[sample])
    twin_maps = compute_maps(ExplainedModel(twin.model, maps.target_layer), images, classes, attribution, seeds).maps
    trained_maps = {m: maps.maps[maps.method_names.index(m)][sample] for m in methods}
    metrics = {
        "train_accuracy_shuffled_labels": twin.train_accuracy,
        "test_accuracy": float(np.mean(predict_probabilities(twin.model, maps.images).argmax(axis=1) == maps.labels)),
        "epochs": float(config.epochs),
        "n_images": float(sample.sum()),
    }
    for measure, by_method in compare_maps(trained_maps, twin_maps).items():
        metrics.update(score_metrics(measure, by_method, params.evaluation, test_against_random=False))
    log_twin(dataset, name, twin.model, maps, hp, metrics, params, root)
    return metrics


def log_twin(dataset: str, name: str, model, maps: MapsFile, hp, metrics: dict[str, float], params: Params, root: Path) -> None:
    """The twin's run (hyperparameters, metrics, model) and its registered version, tagged ``never_promote``."""
    import mlflow

    from medsaliency.best_model import log_keras_model
    from medsaliency.registry import DATA_RANDOMIZED_SUFFIX, NEVER_PROMOTE_TAG, ModelRegistry
    from medsaliency.tracking import ensure_experiment, experiment_name, run_tags

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
