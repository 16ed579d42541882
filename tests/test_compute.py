"""Attribution and evaluation on Dask: the same bytes in this process, on the embedded local cluster and
on an external ``dask scheduler`` with two ``dask worker`` processes; a killed worker; a model that
cannot be loaded. The stages run as the DVC stage commands do (``medsaliency attribute|evaluate``)
in copies of the tiny first run."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from pipeline_project import copied_project, store_client

from medsaliency.compute import ComputeError, InProcess, task_runner
from medsaliency.config import ComputeConfig

DATASET = "brain_tumor"
BIN = Path(sys.executable).parent
# Few methods and one image per task: several tasks per stage, little work in each.
METHODS = ["vanilla_gradient", "gradcam", "xrai_fast", "random"]


def stage_env(**extra: str) -> dict[str, str]:
    """A clean environment for stage and worker processes (mlflow in this process writes MLFLOW_*_URI)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_") and k not in {"KERAS_BACKEND", "DASK_SCHEDULER_ADDRESS"}}
    return env | {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "GX_ANALYTICS_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def prepared_copy(first_run, destination: Path, scheduler: str = "sync", workers: int = 0) -> Path:
    root = copied_project(first_run, destination)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["attribution"].update(methods=METHODS, batch_size=1)
    params["evaluation"]["sanity_methods"] = ["vanilla_gradient", "gradcam", "random"]
    params["compute"] = {"scheduler": scheduler, "workers": workers, "images_per_task": 1, "gpu": False}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return root


def stage(root: Path, name: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["medsaliency", name, DATASET], cwd=root, env=env, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


OUTPUTS = (f"outputs/attribute/{DATASET}", f"outputs/evaluate/{DATASET}", f"outputs/plots/{DATASET}")


def output_md5s(root: Path, folders: tuple[str, ...] = OUTPUTS) -> dict[str, str]:
    files = sorted(path for folder in folders for path in (root / folder).rglob("*") if path.is_file())
    assert all(any(path.is_relative_to(root / folder) for path in files) for folder in folders), files  # none empty
    return {str(path.relative_to(root)): hashlib.md5(path.read_bytes()).hexdigest() for path in files}


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int = 2):
    """A real ``dask scheduler`` and ``workers`` x ``dask worker`` (one thread, no nanny: a killed worker stays dead)
    on 127.0.0.1; yields the scheduler address and the worker processes by name."""
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    env = stage_env()
    common = {"cwd": folder, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    processes = [
        subprocess.Popen(
            ["dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)], **common
        )
    ]
    try:
        deadline = time.time() + 60
        while not scheduler_file.is_file() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        named = {}
        for n in range(workers):
            worker = [
                "dask",
                "worker",
                address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
                "--name",
                f"w{n}",
            ]
            named[f"w{n}"] = subprocess.Popen(worker, **common)
            processes.append(named[f"w{n}"])
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)
        yield address, named
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def sync_outputs(first_run, tmp_path_factory):
    root = prepared_copy(first_run, tmp_path_factory.mktemp("sync"))
    for name in ("attribute", "evaluate"):
        stage(root, name, stage_env())
    return output_md5s(root)


@pytest.mark.slow
def test_this_process_the_local_cluster_and_an_external_cluster_write_the_same_bytes(first_run, sync_outputs, tmp_path):
    local = prepared_copy(first_run, tmp_path / "local", scheduler="local", workers=2)
    printed = stage(local, "attribute", stage_env()).stdout + stage(local, "evaluate", stage_env()).stdout
    assert output_md5s(local) == sync_outputs
    assert "2 Dask worker(s) of tcp://127.0.0.1:" in printed and "dashboard http://" in printed and "evaluation: 3/3 tasks" in printed

    # On an external cluster: attribute here; evaluate on one is the killed-worker test below (the same bytes too).
    external = prepared_copy(first_run, tmp_path / "external", scheduler="local")
    with dask_cluster(tmp_path / "cluster") as (address, _):
        stage(external, "attribute", stage_env(DASK_SCHEDULER_ADDRESS=address))  # overrides params' compute.scheduler
    attribution = {path: md5 for path, md5 in sync_outputs.items() if path.startswith(f"outputs/attribute/{DATASET}")}
    assert attribution and output_md5s(external, (f"outputs/attribute/{DATASET}",)) == attribution
    (explanation,) = store_client(external).search_runs(
        [store_client(external).get_experiment_by_name(f"{DATASET}/explain").experiment_id],
        filter_string=f"tags.`attribute.scheduler_address` = '{address}'",
    )
    assert explanation.data.tags["attribute.workers"] == "2"


@pytest.mark.slow
def test_a_killed_worker_is_replaced_by_the_other_and_the_outputs_do_not_change(first_run, sync_outputs, tmp_path):
    from distributed import Client

    root = prepared_copy(first_run, tmp_path / "project")
    stage(root, "attribute", stage_env())
    with dask_cluster(tmp_path / "cluster") as (address, workers), Client(address, timeout="30s") as client:
        evaluation = subprocess.Popen(
            ["medsaliency", "evaluate", DATASET], cwd=root, env=stage_env(DASK_SCHEDULER_ADDRESS=address), stdout=subprocess.PIPE, text=True
        )
        victim = next(a for a, info in client.scheduler_info(n_workers=-1)["workers"].items() if info["name"] == "w1")
        deadline = time.time() + 300
        while not client.processing().get(victim) and time.time() < deadline:
            assert evaluation.poll() is None, "the stage ended before the worker had a task"
            time.sleep(0.05)
        os.killpg(workers["w1"].pid, signal.SIGKILL)
        assert evaluation.poll() is None, "the worker was killed after the stage had ended"
        printed, _ = evaluation.communicate(timeout=600)
        assert evaluation.returncode == 0, printed
        assert len(client.scheduler_info(n_workers=-1)["workers"]) == 1
    assert output_md5s(root) == sync_outputs
    (explanation,) = store_client(root).search_runs(
        [store_client(root).get_experiment_by_name(f"{DATASET}/explain").experiment_id],
        filter_string=f"tags.`evaluate.scheduler` = '{address}'",
    )
    assert explanation.data.tags["evaluate.workers"] == "2"  # the workers the stage started with


def point_store_at_own_artifacts(root: Path, original: Path) -> None:
    """The copied store records the original's absolute artifact paths: point them at the copy's own."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(root / "mlruns" / "mlflow.db")) as db, db:
        for table, column in (("model_versions", "storage_location"), ("logged_models", "artifact_location")):
            db.execute(f"UPDATE {table} SET {column} = replace({column}, ?, ?)", (str(original), str(root)))


@pytest.mark.slow
def test_a_worker_that_cannot_load_the_model_fails_the_stage_naming_itself_and_the_model(first_run, tmp_path):
    root = prepared_copy(first_run, tmp_path / "project")
    before = output_md5s(root)
    point_store_at_own_artifacts(root, first_run.root)
    broken = list((root / "mlruns").rglob("model.keras"))
    assert broken
    for path in broken:
        path.write_bytes(b"not a keras archive")
    with dask_cluster(tmp_path / "cluster", workers=1) as (address, _):
        result = stage(root, "attribute", stage_env(DASK_SCHEDULER_ADDRESS=address), check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error: Dask worker tcp://127.0.0.1:" in result.stderr
    registry = json.loads((root / "outputs" / "register" / DATASET / "registry.json").read_text())
    (entry,) = [m for m in registry["models"] if m["name"] == registry["top_k"][0]]
    assert f"cannot load models:/{entry['name']}/{entry['champion_version']}" in result.stderr
    assert output_md5s(root) == before  # nothing lost


def test_tasks_come_back_in_order_from_this_process():
    with task_runner(ComputeConfig(scheduler="sync", workers=0, images_per_task=1, gpu=False)) as runner:
        assert isinstance(runner, InProcess)
        assert runner.map(lambda chunk, add: chunk + add, [1, 2, 3], "add", add=10) == [11, 12, 13]


def test_an_unreachable_scheduler_is_named(monkeypatch):
    import medsaliency.compute as compute

    monkeypatch.setattr(compute, "CONNECT_TIMEOUT_S", 2)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")
    with (
        pytest.raises(ComputeError, match=r"tcp://127.0.0.1:9"),
        task_runner(ComputeConfig(scheduler="sync", workers=0, images_per_task=1, gpu=False)),
    ):
        pass
