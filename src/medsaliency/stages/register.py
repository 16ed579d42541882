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

from pathlib import Path

from medsaliency.config import load_params
from medsaliency.io.artifacts import RegisteredModel, RegistryRecord, TuneSummary, ValidationVerdict
from medsaliency.io.paths import registry_file, tune_summary_file, validation_file
from medsaliency.mlops.model_card import TEST_SCORES, test_scores
from medsaliency.mlops.registry import CHAMPION, SCORE_TAG, ModelRegistry, rank_champions, registered_model_name


def run(dataset_name: str, params_path: Path = Path("params.yaml"), root: Path = Path(".")) -> int:
    from medsaliency.mlops.tracking import configure_mlflow, run_tags

    params = load_params(params_path)
    params.dataset(dataset_name)
    configure_mlflow(params.mlflow, root)
    registry = ModelRegistry()
    validated = ValidationVerdict.passed(root / validation_file(dataset_name))
    tags = run_tags(dataset_name, "register", root)
    models = []
    for backbone in params.tune.backbones:
        summary = TuneSummary.read(root / tune_summary_file(dataset_name, backbone))
        name = registered_model_name(dataset_name, backbone, params.shortcut.enabled)
        models.append(register_best_model(registry, name, summary, tags, params.registry.min_improvement, validated))
    record = RegistryRecord(dataset_name, models, rank_champions(models, params.registry.top_k))
    record.write(root / registry_file(dataset_name))
    print(f"{dataset_name}: top {params.registry.top_k}: {', '.join(record.top_k)}")
    return 0


def register_best_model(
    registry: ModelRegistry, name: str, summary: TuneSummary, tags: dict[str, str], min_improvement: float, validated: bool
) -> RegisteredModel:
    """Register the study's best model as a version of ``name``, gate ``champion``, print the decision."""
    from medsaliency.mlops.tracking import best_model_uri, experiment_name

    model_uri = best_model_uri(experiment_name(summary.dataset, "tuning"), summary.study)
    version_tags = {**tags, "backbone": summary.backbone, "study": summary.study, SCORE_TAG: f"{summary.test['macro_f1']:.6f}"}
    version = registry.register(name, model_uri, version_tags)
    registry.describe(name, version, TEST_SCORES, test_scores(summary.test, summary.study, summary.best_trial))
    decision, change = registry.gate(name, version, min_improvement, validated)
    champion = registry.alias_version(name, CHAMPION)
    print(f"{name}: v{version} {'promoted' if decision.promote else 'kept'}: {decision.reason}" + (f" ({change})" if change else ""))
    score = registry.score(name, champion) if champion else None
    return RegisteredModel(name, summary.backbone, version, champion, score)
