"""Where the per-image work of ``attribute`` and ``evaluate`` runs: Dask distributed, or this process.

A stage cuts its images into chunks and asks a :class:`TaskRunner` to apply one function to each
chunk; it gets the results back in chunk order. :func:`task_runner` opens one from
``params.compute`` (see :class:`~medsaliency.config.ComputeConfig`):

- ``local``: an embedded Dask ``LocalCluster``, worker processes with one thread each (two
  processes on two cores beat one process with two threads; several threads per process fight
  over the cores inside BLAS and TensorFlow);
- an address (``tcp://host:8786``, or ``DASK_SCHEDULER_ADDRESS``): an existing cluster, started
  with ``dask scheduler`` / ``dask worker`` by hand, over SSH (``dask ssh``) or on Kubernetes; its
  workers need this package and the MLflow store;
- ``sync``: in this process, one chunk after the other (debugging, tests).

Dask reschedules the tasks of a worker that dies; a task that raises fails the stage with its
own message (no retries: the error names the worker and what it could not do). Each chunk's data
travels in its own task (one submission per chunk): scattered data dies with the worker that
holds it, a task's arguments can be sent again to another worker.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from medsaliency.config import ComputeConfig
from medsaliency.errors import MedsaliencyError

SYNC, LOCAL = "sync", "local"
ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"
CONNECT_TIMEOUT_S = 30
WORKER_WAIT_S = 60
GPU = "GPU"


class ComputeError(MedsaliencyError):
    """The cluster cannot be reached, or has no worker that can run the tasks."""


@dataclass(frozen=True)
class Placement:
    """Where tasks ran: ``scheduler`` (``sync``, ``local`` or an address), the scheduler's
    address, the number of workers and the dashboard link (None without one)."""

    scheduler: str
    address: str
    workers: int
    dashboard: str | None

    def tags(self, stage: str) -> dict[str, str]:
        """MLflow tags ``<stage>.scheduler``, ``<stage>.scheduler_address``, ``<stage>.workers``."""
        return {f"{stage}.scheduler": self.scheduler, f"{stage}.scheduler_address": self.address, f"{stage}.workers": str(self.workers)}


class TaskRunner:
    """Applies a function to chunks, here or on Dask; ``placement`` says where."""

    placement: Placement

    def map(self, function: Callable, chunks: Sequence, label: str, gpu: bool = False, **shared) -> list:
        """``[function(chunk, **shared) for chunk in chunks]`` in order; prints ``<label>: i/n tasks``.
        ``gpu``: the tasks need a worker with a ``GPU`` resource (ignored in this process)."""
        raise NotImplementedError


class InProcess(TaskRunner):
    placement = Placement(SYNC, "this process", 1, None)

    def map(self, function: Callable, chunks: Sequence, label: str, gpu: bool = False, **shared) -> list:
        results = []
        for done, chunk in enumerate(chunks, start=1):
            results.append(function(chunk, **shared))
            _print_progress(label, done, len(chunks))
        return results


class DaskRunner(TaskRunner):
    def __init__(self, client, scheduler: str):
        self.client = client
        workers = client.scheduler_info(n_workers=-1)["workers"]
        self.placement = Placement(scheduler, client.scheduler.address, len(workers), _dashboard(client))

    def map(self, function: Callable, chunks: Sequence, label: str, gpu: bool = False, **shared) -> list:
        from distributed import as_completed

        resources = {GPU: 1} if gpu else None
        if resources:
            self._check_gpu_workers()
        with warnings.catch_warnings():
            # A chunk travels inside its task (not scattered ahead): data scattered to a worker that
            # dies is lost for good, a task's own arguments let Dask re-run it on another worker.
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            futures = [self.client.submit(function, chunk, pure=False, resources=resources, **shared) for chunk in chunks]
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                if future.status == "error":
                    future.result()  # raises the task's own exception
                _print_progress(label, done, len(futures))
            return self.client.gather(futures)
        finally:
            self.client.cancel(futures)

    def _check_gpu_workers(self) -> None:
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        if not any(worker.get("resources", {}).get(GPU) for worker in workers):
            raise ComputeError(
                f"compute.gpu is true but no worker of {self.placement.address} has a {GPU} resource "
                f"(start workers with `dask worker ... --resources {GPU}=1`)"
            )


@contextmanager
def task_runner(config: ComputeConfig) -> Iterator[TaskRunner]:
    """The runner of ``config`` (``DASK_SCHEDULER_ADDRESS`` overrides ``config.scheduler``); a local
    cluster is started here and closed on exit, an external one is only connected to."""
    scheduler = os.environ.get(ADDRESS_VARIABLE) or config.scheduler
    if scheduler == SYNC:
        yield InProcess()
    elif scheduler == LOCAL:
        with _local_client(config) as client:
            yield DaskRunner(client, LOCAL)
    else:
        with _external_client(scheduler) as client:
            yield DaskRunner(client, scheduler)


@contextmanager
def _local_client(config: ComputeConfig) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    from medsaliency.backends import SINGLE_THREAD_ENVIRONMENT

    workers = 1 if config.gpu else config.workers or os.cpu_count() or 1
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        env=dict(SINGLE_THREAD_ENVIRONMENT),
        resources={GPU: 1} if config.gpu else None,
    )
    with _quiet_worker_kills(), cluster, Client(cluster) as client:
        yield client


class _WorkerKillFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "still alive after" not in record.getMessage()


@contextmanager
def _quiet_worker_kills() -> Iterator[None]:
    """Drop the nanny's "Worker process still alive after 4.0 seconds, killing" while the local cluster
    closes: every result is in by then, and a worker process with TensorFlow loaded often takes longer
    than Dask's 4 s to exit; the kill loses nothing, the warning only alarmed readers of `make run`."""
    nanny, quiet = logging.getLogger("distributed.nanny"), _WorkerKillFilter()
    nanny.addFilter(quiet)
    try:
        yield
    finally:
        nanny.removeFilter(quiet)


@contextmanager
def _external_client(address: str) -> Iterator[Any]:
    from distributed import Client

    try:
        client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
    except OSError as exc:
        raise ComputeError(f"cannot reach the Dask scheduler at {address} ({exc}); is `dask scheduler` running?") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except TimeoutError:
            raise ComputeError(
                f"the Dask scheduler at {address} has no worker after {WORKER_WAIT_S} s (start `dask worker {address}`)"
            ) from None
        yield client


def _dashboard(client) -> str | None:
    """The dashboard link when the scheduler serves one (bokeh installed, not ``--no-dashboard``)."""
    if "dashboard" not in client.scheduler_info(n_workers=0).get("services", {}):
        return None
    return client.dashboard_link


def _print_progress(label: str, done: int, total: int) -> None:
    print(f"{label}: {done}/{total} tasks", flush=True, file=sys.stdout)


def worker_seconds(label: str, wall_seconds: float, placement: Placement, images: int) -> str:
    """One line for the stage's log: ``wall_seconds`` x workers / ``images``, what one image cost the
    cluster (worker-seconds per image; comparable between clusters of any size)."""
    per_image = wall_seconds * placement.workers / max(images, 1)
    return f"{label}: {images} images in {wall_seconds:.1f} s on {placement.workers} worker(s): {per_image:.2f} worker-seconds per image"


def describe(placement: Placement) -> str:
    """One line for the stage's log: where its tasks run, and the dashboard when there is one."""
    where = "in this process" if placement.scheduler == SYNC else f"on {placement.workers} Dask worker(s) of {placement.address}"
    return f"tasks run {where}" + (f"; dashboard {placement.dashboard}" if placement.dashboard else "")
