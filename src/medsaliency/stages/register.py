"""``register@<dataset>``: register each backbone's best model, gate ``champion``, rank the top k.

Writes ``outputs/register/<dataset>/registry.json``: per model its name, backbone, the
``challenger`` and ``champion`` versions and the champion's held-out macro-F1, and ``top_k``:
the names of the best ``registry.top_k`` champions. Attribution depends on this file, so an
alias move re-runs it. The file holds the resolved state only: the gate's decision of this
run (``promoted``/``kept`` and why) depends on history (a re-run "keeps" what the first run
"promoted"), so it is printed and written as ``promotion.*`` tags on the model version, and a
re-run that changes no alias leaves the file, and everything downstream, untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

from medsaliency.atomic import staged_file
from medsaliency.config import load_params
from medsaliency.errors import DataError
from medsaliency.jsonfile import read_json
from medsaliency.paths import registry_file, tune_summary_file
from medsaliency.registry import CHAMPION, SCORE_TAG, ModelRegistry, registered_model_name
from medsaliency.stages import validate
from medsaliency.tuning import STUDY_TAG


def run(dataset_name: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    from medsaliency.tracking import configure_mlflow, experiment_name, run_tags

    params = load_params(params_path)
    params.dataset(dataset_name)
    configure_mlflow(params.mlflow, root)
    registry = ModelRegistry()
    validated = validate.passed(dataset_name, root)
    tags = run_tags(dataset_name, "register", root)
    models = []
    for backbone in params.tune.backbones:
        summary = read_json(root / tune_summary_file(dataset_name, backbone), "tune summary not found; run the tune stage")
        name = registered_model_name(dataset_name, backbone, params.shortcut.enabled)
        model_uri = best_model_uri(experiment_name(dataset_name, "tuning"), summary["study"])
        version_tags = {**tags, "backbone": backbone, "study": summary["study"], SCORE_TAG: f"{summary['test']['macro_f1']:.6f}"}
        version = registry.register(name, model_uri, version_tags)
        decision, change = registry.gate(name, version, params.registry.min_improvement, validated)
        champion = registry.alias_version(name, CHAMPION)
        print(f"{name}: v{version} {'promoted' if decision.promote else 'kept'}: {decision.reason}" + (f" ({change})" if change else ""))
        models.append({
            "name": name,
            "backbone": backbone,
            "challenger_version": version,
            "champion_version": champion,
            "champion_macro_f1": registry.score(name, champion) if champion else None,
        })  # fmt: skip
    ranked = sorted((m for m in models if m["champion_version"]), key=lambda m: (-m["champion_macro_f1"], m["name"]))
    result = {"dataset": dataset_name, "models": models, "top_k": [m["name"] for m in ranked[: params.registry.top_k]]}
    with staged_file(root / registry_file(dataset_name)) as staging:
        staging.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"{dataset_name}: top {params.registry.top_k}: {', '.join(result['top_k'])}")
    return 0


def best_model_uri(experiment: str, study: str) -> str:
    """The ``best_model_uri`` tag of the study's parent run."""
    import mlflow

    from medsaliency.best_model import BEST_MODEL_URI_TAG

    runs = mlflow.search_runs(experiment_names=[experiment], filter_string=f"tags.`{STUDY_TAG}` = '{study}' and tags.role = 'study'", output_format="list")
    uris = [run.data.tags[BEST_MODEL_URI_TAG] for run in runs if BEST_MODEL_URI_TAG in run.data.tags]
    if not uris:
        raise DataError(f"study {study}: no logged best model in MLflow experiment {experiment!r}; re-run its tune stage")
    return uris[0]
