"""Screenshots of the MLflow UI over a finished run's store, for docs/mlflow-ui.md.

    .venv/bin/python tests/tools/ui_screenshots.py [--root .] [--dataset brain_tumor] [--out docs/images]

Starts a real ``mlflow server`` over ``<root>/mlruns/mlflow.db``, clicks through the explain experiment
as the docs describe (headless Chromium, :mod:`tools.mlflow_ui`) and writes ``mlflow-ui-methods-chart.png``,
``mlflow-ui-compare-methods.png`` and ``mlflow-ui-model-version.png``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import mlflow_server

from tools.headless import Browser
from tools.mlflow_ui import open_method_charts

CLOSE_ASSISTANT = "(document.querySelector('button[aria-label=\"Close\"]') || {click() {}}).click()"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--dataset", default="brain_tumor")
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    import mlflow

    args.out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with tempfile.TemporaryDirectory() as scratch, mlflow_server(f"sqlite:///{args.root.resolve()}/mlruns/mlflow.db", Path(scratch)) as url:
        client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
        experiment = client.get_experiment_by_name(f"{args.dataset}/explain")
        (model_run, *_) = client.search_runs(
            [experiment.experiment_id], "tags.role = 'explanation'", order_by=["attributes.start_time DESC"], max_results=1
        )
        children = client.search_runs([experiment.experiment_id], f"tags.`mlflow.parentRunId` = '{model_run.info.run_id}'")
        by_method = {run.data.params["method"]: run.info.run_id for run in children}
        with Browser(chromium, width=1600, height=1200) as browser:
            open_method_charts(browser, url, experiment.experiment_id, model_run.info.run_name, len(children), "pic")
            browser.evaluate(CLOSE_ASSISTANT)
            time.sleep(2)
            browser.screenshot(args.out / "mlflow-ui-methods-chart.png")
            ids = ",".join(f"%22{by_method[m]}%22" for m in ("xrai_full", "blur_ig") if m in by_method)
            browser.open(f"{url}/#/compare-runs?runs=[{ids}]&experiments=[%22{experiment.experiment_id}%22]")
            browser.wait_for("document.body.innerText.includes('pic/aic_auc')")
            browser.evaluate("Array.from(document.querySelectorAll('*')).find(e => e.textContent === 'Metrics').scrollIntoView()")
            time.sleep(2)
            browser.screenshot(args.out / "mlflow-ui-compare-methods.png")
            name, version = model_run.data.tags["registered_model_name"], model_run.data.tags["registered_model_version"]
            browser.open(f"{url}/#/models/{name}/versions/{version}")
            browser.wait_for("document.body.innerText.includes('Saliency evaluation')")
            time.sleep(2)
            browser.screenshot(args.out / "mlflow-ui-model-version.png")
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
