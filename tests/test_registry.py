"""The promotion gate (pure) and the registry interface against a real MLflow sqlite store."""

import keras
import mlflow
import pytest

from medsaliency.cli import main
from medsaliency.mlops.registry import CHALLENGER, CHAMPION, NEVER_PROMOTE_TAG, SCORE_TAG, ModelRegistry, RegistryError, decide_promotion


def test_gate_promotes_when_there_is_no_champion():
    assert decide_promotion(0.5, None, 0.02, True).promote


def test_gate_keeps_champion_when_challenger_is_worse_or_not_better_enough():
    assert not decide_promotion(0.70, 0.80, 0.0, True).promote
    assert not decide_promotion(0.81, 0.80, 0.02, True).promote
    assert not decide_promotion(0.80, 0.80, 0.0, True).promote


def test_gate_promotes_a_clearly_better_challenger():
    decision = decide_promotion(0.85, 0.80, 0.02, True)
    assert decision.promote and "beats 0.8000 by 0.0500" in decision.reason


def test_gate_never_promotes_on_unvalidated_data():
    decision = decide_promotion(0.99, 0.10, 0.0, False)
    assert not decision.promote and decision.reason == "data did not validate"


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    (tmp_path / "params.yaml").write_text((__import__("conftest").TINY_PARAMS).read_text().replace("sqlite:///mlruns/mlflow.db", uri))
    return tmp_path


def logged_model_uri() -> str:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    with mlflow.start_run():
        return mlflow.keras.log_model(model, name="model", pip_requirements=["keras"]).model_uri


def test_registry_gate_keeps_then_moves_champion_and_rolls_back(store, capsys):
    registry = ModelRegistry()
    first = registry.register("ds.net", logged_model_uri(), {SCORE_TAG: "0.80"})
    assert registry.gate("ds.net", first, 0.0, True)[0].promote
    worse = registry.register("ds.net", logged_model_uri(), {SCORE_TAG: "0.70"})
    decision, change = registry.gate("ds.net", worse, 0.0, True)
    assert not decision.promote and change is None
    assert registry.alias_version("ds.net", CHAMPION) == first and registry.alias_version("ds.net", CHALLENGER) == worse
    tags = mlflow.MlflowClient().get_model_version("ds.net", worse).tags
    assert tags["promotion.decision"] == "kept" and tags["promotion.champion_version"] == first
    better = registry.register("ds.net", logged_model_uri(), {SCORE_TAG: "0.90"})
    decision, change = registry.gate("ds.net", better, 0.0, True)
    assert decision.promote and str(change) == f"ds.net@champion: v{first} -> v{better}"
    assert main(["registry", "rollback", "ds.net"]) == 0
    assert capsys.readouterr().out.strip() == f"ds.net@champion: v{better} -> v{first}"
    assert main(["registry", "promote", "ds.net", better]) == 0
    assert registry.alias_version("ds.net", CHAMPION) == better


def test_registering_the_same_model_twice_reuses_the_version(store):
    registry = ModelRegistry()
    uri = logged_model_uri()
    assert registry.register("ds.net", uri, {SCORE_TAG: "0.5"}) == registry.register("ds.net", uri, {SCORE_TAG: "0.5"}) == "1"


def test_rollback_without_history_is_a_clear_error(store):
    registry = ModelRegistry()
    version = registry.register("ds.net", logged_model_uri(), {SCORE_TAG: "0.5"})
    registry.gate("ds.net", version, 0.0, True)
    with pytest.raises(RegistryError, match="no earlier champion to roll back to"):
        registry.rollback_champion("ds.net")


def test_cli_promote_of_missing_version_exits_2(store, capsys):
    ModelRegistry().register("ds.net", logged_model_uri(), {SCORE_TAG: "0.5"})
    assert main(["registry", "promote", "ds.net", "7"]) == 2
    assert "ds.net: no version 7" in capsys.readouterr().err


def test_a_never_promote_version_can_hold_no_alias(store, capsys):
    registry = ModelRegistry()
    twin = registry.register("ds.net.data_randomized", logged_model_uri(), {NEVER_PROMOTE_TAG: "true"})
    with pytest.raises(
        RegistryError, match=r"ds.net.data_randomized v1 is tagged never_promote: it can hold no alias \('champion' refused\)"
    ):
        registry.move_alias("ds.net.data_randomized", CHAMPION, twin)
    assert main(["registry", "promote", "ds.net.data_randomized", twin]) == 2
    assert "tagged never_promote" in capsys.readouterr().err
    assert registry.alias_version("ds.net.data_randomized", CHAMPION) is None
