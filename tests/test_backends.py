"""The Keras backend seam: TensorFlow and JAX give the same results from the same weights, the backend-free
unit tests pass on JAX, a JAX ``dvc repro`` runs every stage, and the params decide the backend."""

import os
import subprocess
import sys

import numpy as np
import pytest
import yaml
from conftest import REPO
from pipeline_project import copied_project, run, store_client

from medsaliency import backends
from medsaliency.cli import main
from medsaliency.errors import ConfigError

PROBE = REPO / "tests" / "tools" / "backend_probe.py"
# The unit tests of everything that runs a model, which must hold on every backend.
BACKEND_FREE_TESTS = (
    "tests/models/test_training.py",
    "tests/models/test_batches.py",
    "tests/attribution",
    "tests/evaluation/test_sanity.py",
)


def probe(backend: str, model: str, inputs, out, cwd, tracking_uri: str | None = None, resave=None, pic_maps=None) -> dict[str, np.ndarray]:
    # mlflow.set_tracking_uri/set_registry_uri in this process write MLFLOW_*_URI into os.environ: not for the probe
    env = {key: value for key, value in os.environ.items() if key not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    env["KERAS_BACKEND"] = backend
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = env["MLFLOW_REGISTRY_URI"] = tracking_uri
    options = [*(["--resave", str(resave)] if resave else []), *(["--pic-maps", str(pic_maps)] if pic_maps else [])]
    command = [sys.executable, str(PROBE), model, str(inputs), str(out), *options]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    with np.load(out, allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}


@pytest.mark.slow
def test_the_champion_explains_the_same_on_both_backends(first_run, tmp_path):
    """TensorFlow trained and saved it; JAX loads it from the registry, explains it and saves it again;
    TensorFlow loads JAX's file and explains it. Same weights -> the same logits and maps; PIC on JAX's maps -> the
    same AUCs (on each backend's own maps, a near-tie in a map's pixel order could pick other pixels to blur)."""
    root = first_run.root
    with np.load(root / "outputs" / "prepare" / "brain_tumor" / "test.npz", allow_pickle=False) as test:
        inputs = tmp_path / "inputs.npz"
        np.savez(inputs, images=test["x"][:6], labels=test["y"][:6], ids=test["ids"][:6])
    uri = f"sqlite:///{root}/mlruns/mlflow.db"
    jax = probe("jax", "models:/brain_tumor.small_cnn@champion", inputs, tmp_path / "jax.npz", root, uri, resave=tmp_path / "jax.keras")
    tensorflow = probe("tensorflow", str(tmp_path / "jax.keras"), inputs, tmp_path / "tensorflow.npz", root, pic_maps=tmp_path / "jax.npz")
    assert (str(jax["backend"]), str(tensorflow["backend"])) == ("jax", "tensorflow")
    np.testing.assert_allclose(jax["logits"], tensorflow["logits"], atol=1e-5)
    assert len(jax["methods"]) == 12 and np.array_equal(jax["methods"], tensorflow["methods"])
    same_map = map_correlations(jax["maps"], tensorflow["maps"]) >= 0.999  # [M, N]
    for m, method in enumerate(jax["methods"]):
        if method == "guided_ig":
            assert_guided_ig_agrees(jax["maps"][m], tensorflow["maps"][m], same_map[m])
        else:
            assert same_map[m].all(), f"{method}: maps correlate below r = 0.999 across backends on images {np.flatnonzero(~same_map[m])}"
    # PIC on the same maps: the blurred images are the same, so the AUCs differ only where the two models' 1e-7
    # logit differences flip an arg-max (AIC) or a probability (SIC). On each backend's own maps, a near-tie in a
    # map's pixel order picks other pixels to blur, which moved whole AIC steps (up to 0.07 of the area).
    for kind in ("aic", "sic"):
        np.testing.assert_array_equal(np.isnan(jax[kind]), np.isnan(tensorflow[kind]))  # the same exclusions
        np.testing.assert_allclose(jax[kind], tensorflow[kind], atol=1e-4, err_msg=kind)
    # This barely trained model's SIC curves are all excluded (its fully blurred images are as confident as the
    # originals), so the SIC values themselves are compared by hand on the default champion (docs/training.md), here only
    # their exclusions; the AIC curves of half the images exist, for every method.
    assert np.isfinite(jax["aic"]).sum() >= len(jax["methods"])


def map_correlations(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Pearson r between corresponding maps of two ``[M, N, S, S]`` stacks: ``[M, N]``."""
    return np.array(
        [[np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(x, y, strict=True)] for x, y in zip(first, second, strict=True)]
    )


def assert_guided_ig_agrees(first: np.ndarray, second: np.ndarray, same_map: np.ndarray) -> None:
    """Guided IG's path is chosen by thresholding each step's gradient at a quantile (PAIR's ``GuidedIG``): where
    pixels sit on a near-tie at the threshold, a 1e-7 gradient difference moves other pixels first, and the map
    of that image differs (seen on an Intel Xeon: one image of six at r = 0.23). Both paths still integrate the
    same gradient field from black to the image, so each map's total (completeness) agrees; most images agree
    whole. ``first``, ``second``: ``[N, S, S]`` maps (absolute values summed over channels); ``same_map``: ``[N]``."""
    np.testing.assert_allclose(first.sum(axis=(1, 2)), second.sum(axis=(1, 2)), rtol=0.01)
    assert same_map.mean() >= 0.5, f"Guided IG: only images {np.flatnonzero(same_map)} agree across backends"


@pytest.mark.slow
def test_the_backend_free_unit_tests_pass_on_jax():
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"))}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", *BACKEND_FREE_TESTS]
    result = subprocess.run(command, cwd=REPO, env=env | {"KERAS_BACKEND": "jax"}, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1] and "skipped" in result.stdout.splitlines()[-1]  # tf-keras-vis: TF only


@pytest.mark.slow
def test_a_jax_dvc_repro_runs_every_keras_stage_and_records_the_backend(first_run, tmp_path):
    root = copied_project(first_run, tmp_path)
    run(["medsaliency", "set-backend", "jax"], root)
    status = run(["dvc", "status", "evaluate@brain_tumor"], root).stdout
    assert "keras_backend" in status  # DVC sees the change
    output = run(["dvc", "repro", "evaluate@brain_tumor"], root).stdout
    for stage in ("tune@brain_tumor-small_cnn", "register@brain_tumor", "attribute@brain_tumor", "evaluate@brain_tumor"):
        assert f"Running stage '{stage}'" in output
    assert "training with jax on the CPU" in output
    lock = yaml.safe_load((root / "dvc.lock").read_text())["stages"]
    assert lock["tune@brain_tumor-small_cnn"]["params"]["params.yaml"]["keras_backend"] == "jax"
    assert lock["attribute@brain_tumor"]["params"]["params.yaml"]["keras_backend"] == "jax"
    client = store_client(root)
    explain = client.get_experiment_by_name("brain_tumor/explain")
    (latest, *_) = client.search_runs(
        [explain.experiment_id], "tags.role = 'explanation'", order_by=["attributes.start_time DESC"], max_results=1
    )
    assert latest.data.tags["keras_backend"] == "jax"
    metrics = yaml.safe_load((root / "outputs" / "evaluate" / "brain_tumor" / "metrics" / "brain_tumor.small_cnn.json").read_text())
    assert metrics and run(["dvc", "status", "evaluate@brain_tumor"], root).stdout.strip().endswith("up to date.")


def test_the_params_decide_the_backend_and_a_different_environment_is_refused(monkeypatch):
    import keras  # noqa: F401  (this process's Keras, on TensorFlow: the suite's backend)

    monkeypatch.setenv("KERAS_BACKEND", "jax")
    with pytest.raises(ConfigError, match=r"KERAS_BACKEND=jax in the environment, but params.yaml has keras_backend: tensorflow"):
        backends.select("tensorflow", "params.yaml")
    monkeypatch.delenv("KERAS_BACKEND")
    with pytest.raises(ConfigError, match="already imported on tensorflow"):
        backends.select("jax", "params.yaml")  # this process imported Keras on TensorFlow
    backends.select("tensorflow", "params.yaml")
    assert backends.name() == "tensorflow"


def test_a_keras_stage_names_the_disagreement_before_doing_anything(monkeypatch, project, capsys):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert main(["--params", str(project / "params.yaml"), "--root", str(project), "tune", "brain_tumor", "small_cnn"]) == 2
    assert "keras_backend: tensorflow" in capsys.readouterr().err
    assert not (project / "outputs" / "tune").exists()
