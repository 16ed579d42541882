"""The replicates' training gate: which seeds count, which are rejected and logged, when the stage gives up."""

import mlflow
import pytest

from medsaliency.config import Hyperparameters, ReplicatesConfig
from medsaliency.errors import DataError
from medsaliency.mlops.replicates import GATE_TAG, REJECTED, log_rejected
from medsaliency.stages.replicates import TrainingGate


def scores(val_macro_f1: float) -> dict[str, float]:
    return {"val_macro_f1": val_macro_f1, "macro_f1": val_macro_f1, "accuracy": 0.5, "lowest_class_recall": 0.0}


def test_rejected_seeds_are_replaced_by_the_next_until_count_replicates_are_admitted():
    gate = TrainingGate(ReplicatesConfig(count=3, seed=1000, min_val_macro_f1=0.5, max_rejected=2), "ds.net")
    val = {1000: 0.9, 1001: 0.17, 1002: 0.5, 1003: 0.8, 1004: 0.9}
    admitted = [seed for seed in gate.seeds() if gate.admits(seed, scores(val[seed]))]
    assert admitted == [1000, 1002, 1003]  # 1001 collapsed; the bound itself passes
    assert gate.rejected == {"1001": scores(0.17)}


def test_more_rejections_than_allowed_stop_the_stage_naming_the_seeds():
    gate = TrainingGate(ReplicatesConfig(count=2, seed=7, min_val_macro_f1=0.5, max_rejected=1), "ds.net")
    with pytest.raises(DataError, match=r"ds\.net: seeds 7 \(0\.170\), 8 \(0\.330\) stayed below replicates\.min_val_macro_f1"):
        for seed in gate.seeds():
            gate.admits(seed, scores({7: 0.17, 8: 0.33}[seed]))
    assert list(TrainingGate(ReplicatesConfig(count=0, seed=7, min_val_macro_f1=0.5, max_rejected=1), "m").seeds()) == []


def test_a_rejected_replicate_gets_a_run_with_its_scores_and_no_registered_version(tmp_path, tiny_params):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    (tmp_path / "outputs" / "prepare" / "brain_tumor").mkdir(parents=True)
    hp = Hyperparameters(**tiny_params.tune.paper_trial.model_dump())
    run_id = log_rejected("brain_tumor", "brain_tumor.small_cnn", "small_cnn", hp, 1001, scores(0.17), tiny_params, tmp_path)
    run = mlflow.get_run(run_id)
    assert run.data.tags[GATE_TAG] == REJECTED and run.data.params["seed"] == "1001"
    assert run.data.metrics["val_macro_f1"] == 0.17 and run.data.metrics["test_macro_f1"] == 0.17
    assert mlflow.MlflowClient().search_model_versions("name = 'brain_tumor.small_cnn.replicate'") == []
