"""From a settled study to its best model, logged with ``mlflow.keras`` on the study's parent run.

The best trial's checkpoint (an artifact of its nested run) is loaded with
``safe_mode=True``, evaluated on the held-out test split, and logged as the parent run's
``model`` with explicit ``pip_requirements``, a signature and an input example, next to its
test metrics (``test_accuracy``, ``test_macro_f1``, per class), the confusion matrix PNG
and scikit-learn's classification report. The parent run's tags ``best_trial`` and
``best_model_uri`` make this idempotent: a resumed stage does not log the model twice.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from importlib import metadata
from unittest.mock import patch

import numpy as np
import optuna

from medsaliency.errors import MedsaliencyError
from medsaliency.io.artifacts import SplitArrays
from medsaliency.mlops.tracking import BEST_MODEL_URI_TAG
from medsaliency.mlops.tuning import CHECKPOINT_ARTIFACT
from medsaliency.models.metrics import classification_metrics, confusion, confusion_figure, report_text

BEST_TRIAL_TAG = "best_trial"


class TuningFailed(MedsaliencyError):
    """No trial of the study completed: there is no model to log."""


def pip_requirements() -> list[str]:
    """The packages a served model needs, at the versions that trained it (no inference: ~10 s saved):
    the Keras backend's framework (:mod:`medsaliency.backends`), ``keras`` and ``numpy``."""
    from medsaliency import backends

    return [*backends.current().framework_requirements(), *(f"{name}=={metadata.version(name)}" for name in ("keras", "numpy"))]


def log_best_model(study: optuna.Study, parent_run_id: str, test: SplitArrays, classes: list[str]) -> dict:
    """Log the best trial's model and test metrics on the parent run (once); return the summary.

    Summary: ``best_trial``, ``best_params``, ``val_macro_f1``, ``test`` (metrics dict),
    ``trials`` (count per state) — deterministic content for the DVC metrics file.
    """
    import mlflow

    completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not completed:
        states = {trial.number: trial.state.name for trial in study.trials}
        raise TuningFailed(f"study {study.study_name}: no trial completed ({states}); see the failed runs' 'error' tag in MLflow")
    best = study.best_trial
    client = mlflow.MlflowClient()
    parent = client.get_run(parent_run_id)
    if parent.data.tags.get(BEST_TRIAL_TAG) != str(best.number) or BEST_MODEL_URI_TAG not in parent.data.tags:
        _log_model_and_test_metrics(client, parent_run_id, best, test, classes)
        parent = client.get_run(parent_run_id)
    test_metrics = {key.removeprefix("test_"): value for key, value in parent.data.metrics.items() if key.startswith("test_")}
    return {
        "best_trial": best.number,
        "best_params": best.params,
        "val_macro_f1": round(float(best.value or 0.0), 6),  # a completed trial always has its value
        "test": {key: round(value, 6) for key, value in sorted(test_metrics.items())},
        "trials": {state.name: len(study.get_trials(deepcopy=False, states=(state,))) for state in optuna.trial.TrialState},
    }


def _log_model_and_test_metrics(client, parent_run_id: str, best: optuna.trial.FrozenTrial, test: SplitArrays, classes: list[str]) -> None:
    import keras
    import matplotlib.pyplot as plt
    import mlflow

    from medsaliency.models.training import predict_probabilities

    with tempfile.TemporaryDirectory() as folder:
        local = client.download_artifacts(best.user_attrs["mlflow_run_id"], CHECKPOINT_ARTIFACT, folder)
        model = keras.saving.load_model(local, safe_mode=True)
    probabilities = predict_probabilities(model, test.x)
    metrics = classification_metrics(test.y, probabilities, classes)
    matrix = confusion(test.y, probabilities, len(classes))
    with mlflow.start_run(run_id=parent_run_id):
        mlflow.log_metrics({f"test_{key}": value for key, value in metrics.items()})
        figure = confusion_figure(matrix, classes, f"test split, trial {best.number}")
        mlflow.log_figure(figure, "confusion_matrix.png")
        plt.close(figure)
        mlflow.log_text(report_text(test.y, probabilities, classes), "classification_report.txt")
        mlflow.log_dict({"classes": classes, "confusion_matrix": matrix.tolist()}, "confusion_matrix.json")
        info = log_keras_model(model, test.x[:2])
        mlflow.set_tags(
            {BEST_TRIAL_TAG: str(best.number), BEST_MODEL_URI_TAG: info.model_uri, "test_macro_f1": f"{metrics['macro_f1']:.6f}"}
        )
        mlflow.log_params({f"best.{key}": value for key, value in best.params.items()})


def log_keras_model(model, example: np.ndarray):
    """Log ``model`` as the active run's ``model`` with ``mlflow.keras``: pinned requirements, a signature
    and ``example`` (two inputs) as the input example; returns MLflow's ``ModelInfo``."""
    import mlflow
    from mlflow.models import infer_signature

    with _input_example_folder_created(), _serving_input_checked_without_tf_data():
        return mlflow.keras.log_model(
            model,
            name="model",
            pip_requirements=pip_requirements(),
            signature=infer_signature(example, np.asarray(model.predict_on_batch(example))),
            input_example=example,
        )


@contextmanager
def _input_example_folder_created():
    """Work around mlflow/mlflow#16183 (open in 3.17): ``mlflow.keras.save_model`` writes the
    input example before it creates the model folder. Scoped to one call; a no-op once fixed."""
    import mlflow.keras.save as keras_save

    original = keras_save._save_example

    def save_example(mlflow_model, input_example, path, *args, **kwargs):
        os.makedirs(path, exist_ok=True)
        return original(mlflow_model, input_example, path, *args, **kwargs)

    with patch.object(keras_save, "_save_example", save_example):
        yield


@contextmanager
def _serving_input_checked_without_tf_data():
    """MLflow checks at logging time that the saved input example can be served: it reloads the logged
    model as a pyfunc and calls Keras ``predict``, which on TensorFlow builds a ``tf.data`` pipeline that
    prints ``E0000 ... use_unbounded_threadpool`` lines (harmless, read as errors in the log), and
    ``mlflow.keras.log_model`` has no switch for it. Scoped to one call, the same check (reload, parse
    the serving input against the signature) predicts with ``predict_on_batch`` instead."""
    import mlflow.models.utils as model_utils
    from mlflow.pyfunc import load_model
    from mlflow.pyfunc.scoring_server import _parse_json_data

    def validate(model_uri: str, serving_input):
        served = load_model(model_uri)
        parsed = _parse_json_data(serving_input, served.metadata, served.metadata.get_input_schema())
        return served.get_raw_model().predict_on_batch(parsed.data)

    with patch.object(model_utils, "_validate_serving_input", validate):
        yield
