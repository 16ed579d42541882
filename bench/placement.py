"""Where tasks run, timed side by side: one worker process, the local cluster, an external cluster.

Used by ``bench/pic.py`` and ``bench/attribution.py``: :func:`time_placements` runs the same work
(a function of a :class:`~medsaliency.compute.TaskRunner`) on

- ``1 process``: an embedded ``LocalCluster`` with one worker process (one thread, as every worker);
- ``local cluster``: the embedded ``LocalCluster`` of ``make run`` (one worker per core);
- ``external cluster``: a real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1,
  started here (or ``--scheduler ADDRESS``: one that is already running),

and reports wall seconds and images/s for each, cold (each worker loads the model once and traces
its functions inside the timing, as a stage does), and whether the results are identical.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from medsaliency.compute import task_runner
from medsaliency.config import ComputeConfig

BIN = Path(sys.executable).parent


@contextlib.contextmanager
def external_cluster(workers: int = 2) -> Iterator[str]:
    """``dask scheduler`` and ``workers`` x ``dask worker`` (one thread each) on 127.0.0.1; yields the address."""
    from distributed import Client

    from medsaliency.backends import SINGLE_THREAD_ENVIRONMENT

    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | dict(SINGLE_THREAD_ENVIRONMENT)
    with tempfile.TemporaryDirectory() as folder:
        scheduler_file = Path(folder) / "scheduler.json"
        start = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
        command = [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(scheduler_file)]
        processes = [subprocess.Popen(command, **start)]
        try:
            while not scheduler_file.is_file():
                time.sleep(0.2)
            address = json.loads(scheduler_file.read_text())["address"]
            for _ in range(workers):
                processes.append(
                    subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--host", "127.0.0.1"], **start)
                )
            with Client(address) as client:
                client.wait_for_workers(workers, timeout=120)
            yield address
        finally:
            for process in processes:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)


def time_placements(work: Callable, images: int, images_per_task: int, scheduler: str | None = None) -> list[dict]:
    """``work(runner)`` on each placement, in tasks of ``images_per_task`` images:
    ``{"placement", "workers", "seconds", "images_per_s", "result"}``."""
    legs = []
    for label, config in (("1 process", _local(1, images_per_task)), ("local cluster", _local(0, images_per_task))):
        legs.append(_timed(label, config, work, images))
    with contextlib.ExitStack() as stack:
        address = scheduler or stack.enter_context(external_cluster())
        legs.append(
            _timed(
                "external cluster", ComputeConfig(scheduler=address, workers=0, images_per_task=images_per_task, gpu=False), work, images
            )
        )
    return legs


def identical(legs: list[dict], compare: Callable[[object, object], bool]) -> bool:
    return all(compare(legs[0]["result"], leg["result"]) for leg in legs[1:])


def arrays_equal(first: dict, second: dict) -> bool:
    return first.keys() == second.keys() and all(np.array_equal(first[k], second[k], equal_nan=True) for k in first)


def print_table(legs: list[dict], same: bool) -> None:
    print("| placement | workers | seconds | images/s |")
    print("| --- | ---: | ---: | ---: |")
    for leg in legs:
        print(f"| {leg['placement']} | {leg['workers']} | {leg['seconds']:.1f} | {leg['images_per_s']:.3f} |")
    print(f"identical results on every placement: {same}")


def _local(workers: int, images_per_task: int) -> ComputeConfig:
    return ComputeConfig(scheduler="local", workers=workers, images_per_task=images_per_task, gpu=False)


def _timed(label: str, config: ComputeConfig, work: Callable, images: int) -> dict:
    with task_runner(config) as runner:
        start = time.perf_counter()
        result = work(runner)
        seconds = time.perf_counter() - start
        workers = runner.placement.workers
    return {"placement": label, "workers": workers, "seconds": seconds, "images_per_s": images / seconds, "result": result}


def with_task_images(params, images: int | None):
    """``params`` with ``compute.images_per_task`` set to ``images`` (None: unchanged), so a few images
    still make several tasks. Results stay identical across placements at any task size."""
    if images is None:
        return params
    return params.model_copy(update={"compute": params.compute.model_copy(update={"images_per_task": images})})
