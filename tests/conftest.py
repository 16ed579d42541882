"""Shared fixtures: a tiny but complete params set and a project folder laid out like the repo."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
import yaml

from medsaliency.config import Params, parse_params

REPO = Path(__file__).resolve().parents[1]
REGION = (slice(2, 12), slice(3, 13))  # where region_model() looks


TINY_PARAMS = Path(__file__).parent / "tiny_params.yaml"


def tiny_params_raw() -> dict:
    """The suite's own small params (``tests/tiny_params.yaml``), a fresh copy for each caller to change."""
    return yaml.safe_load(TINY_PARAMS.read_text())


# The longest chains first, so that `make test`'s pytest-xdist workers (--dist loadfile: a file's
# tests on one worker) start them at once; the shortcut experiment last: it needs first_run, which the
# first worker builds meanwhile.
FIRST = ("test_pipeline.py", "test_tuning.py")
LAST = ("test_shortcut_experiment.py",)


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        name = item.path.name
        return FIRST.index(name) if name in FIRST else len(FIRST) + 1 if name in LAST else len(FIRST)

    items.sort(key=rank)  # stable: the order within a file is kept


def pytest_configure(config):
    """The suite runs against its own stores: a tracking URI from the caller's shell must not leak in."""
    os.environ.pop("MLFLOW_TRACKING_URI", None)


def isolate_tracking() -> None:
    """Forget any tracking URI: mlflow.set_tracking_uri() writes MLFLOW_TRACKING_URI into os.environ,
    and medsaliency.mlops.tracking reads the user's value once per process. Call before using a new store."""
    import medsaliency.mlops.tracking as tracking

    os.environ.pop("MLFLOW_TRACKING_URI", None)
    tracking._user_uri = tracking._NOT_READ


@pytest.fixture(autouse=True)
def no_leaked_tracking_uri():
    """No test inherits another's tracking store."""
    isolate_tracking()
    yield
    isolate_tracking()


@pytest.fixture
def tiny_raw() -> dict:
    return tiny_params_raw()


@pytest.fixture
def tiny_params(tiny_raw) -> Params:
    return parse_params(tiny_raw)


@pytest.fixture
def project(tmp_path, tiny_raw) -> Path:
    """A folder with a tiny ``params.yaml``; relative paths in params resolve against it."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_raw, sort_keys=False))
    return tmp_path


@pytest.fixture(scope="session")
def phantom_project(tmp_path_factory) -> Path:
    """A project folder whose ``data/`` holds the tiny phantoms (written once per session)."""
    from medsaliency.data.formats import write_phantom_datasets

    root = tmp_path_factory.mktemp("phantom_project")
    raw = tiny_params_raw()
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    write_phantom_datasets(parse_params(raw), root)
    return root


def region_model(size: int = 24):
    """Class 0's logit = mean(x inside REGION) - mean(x outside); class 1's is its negative.

    The target layer ``regions`` holds two channels, x inside and x outside the region, so a
    correct Grad-CAM for class 0 lights the region and nothing else.
    """
    import keras
    import numpy as np

    inside = np.zeros((1, size, size, 1), np.float32)
    inside[(0, *REGION, 0)] = 1.0
    inputs = keras.Input((size, size, 1))
    regions = keras.layers.Lambda(lambda x: keras.ops.concatenate([x * inside, x * (1 - inside)], axis=-1), name="regions")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(regions)
    head = keras.layers.Dense(2, activation="softmax", name="probabilities")
    outputs = head(pooled)
    scale = size * size / inside.sum()
    head.set_weights([np.array([[scale, -scale], [-1.0, 1.0]], np.float32) * 4, np.zeros(2, np.float32)])
    return keras.Model(inputs, outputs)


@contextlib.contextmanager
def mlflow_server(backend_uri: str, artifacts: Path, timeout: float = 90.0):
    """A real ``mlflow server`` (the command ``make server`` runs) on a free loopback port; yields its URL."""
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        Path(sys.executable).parent / "mlflow",
        "server",
        "--backend-store-uri",
        backend_uri,
        "--artifacts-destination",
        str(artifacts),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise RuntimeError(
                        f"mlflow server did not start: {server.communicate()[0][-3000:] if server.poll() is not None else 'timed out'}"
                    ) from None
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def first_run(tmp_path_factory):
    """The tiny profile, both datasets, all methods: the whole ``dvc repro`` through ``make retrain``, in a
    git project of this repository. Built once for all test processes (pytest-xdist workers share the
    folder above their own base temp, under a file lock); tests only read it, or work on a copy."""
    import json

    from filelock import FileLock
    from pipeline_project import RetrainRun, git_project, make_retrain

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    done = shared / "first_run" / "run.json"
    with FileLock(str(shared / "first_run.lock")):
        if not done.is_file():
            result = make_retrain(git_project(shared / "first_run" / "project", tiny_params_raw()))
            done.write_text(json.dumps({"stdout": result.stdout, "summary": result.summary}))
    recorded = json.loads(done.read_text())
    return RetrainRun(shared / "first_run" / "project", recorded["stdout"], recorded["summary"])
