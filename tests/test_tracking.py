"""MLflow records written by several processes at once (a real sqlite store)."""

import threading

import mlflow

from medsaliency.mlops.tracking import log_prepared_dataset


def test_runs_logging_a_new_dataset_at_the_same_moment_all_record_it(tmp_path, monkeypatch):
    """MLflow inserts a dataset it has not seen in the transaction that links it, so concurrent
    first loggers collide on the unique key; every run must still end up with the one dataset."""
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    experiment = client.create_experiment("brain_tumor/tuning")
    failures: list[Exception] = []

    def log(run_id: str, digest: str, start: threading.Barrier) -> None:
        start.wait()
        try:
            log_prepared_dataset(run_id, "brain_tumor", digest, "training")
        except Exception as exc:  # collected, asserted below
            failures.append(exc)

    for round_ in range(5):
        runs = [client.create_run(experiment).info.run_id for _ in range(6)]
        start = threading.Barrier(len(runs))
        threads = [threading.Thread(target=log, args=(run, f"md5-{round_}", start)) for run in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for run in runs:
            (logged,) = client.get_run(run).inputs.dataset_inputs
            assert (logged.dataset.name, logged.dataset.digest) == ("brain_tumor", f"md5-{round_}")
    assert failures == []
