"""The GPU bench script runs on the CPU at a tiny size, so that it cannot rot before the next GPU session."""

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO


@pytest.mark.slow
def test_gpu_pipeline_bench_measures_both_legs_on_jax(tmp_path):
    out = tmp_path / "bench.json"
    command = [sys.executable, "bench/gpu_pipeline.py", "--size", "32", "--backbones", "small_cnn", "--train-images", "24"]
    command += ["--epochs", "2", "--explain-images", "1", "--budget-s", "300", "--out", str(out)]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")} | {"KERAS_BACKEND": "jax"}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())
    for leg in ("accelerated", "cpu"):
        assert report[leg]["backend"] == "jax" and report[leg]["policy"] == "float32"  # no accelerator here: float32
        figures = report[leg]["results"]["small_cnn"]
        assert figures["first_epoch_s"] > figures["epoch_s"] > 0 and figures["train_images_per_s"] > 0
        assert len(figures["attribution_images_per_s"]) == 12 and min(figures["attribution_images_per_s"].values()) > 0
        assert figures["pic_images_per_s"] > 0
    assert report["cpu"]["devices"] == ["cpu"]
    (row,) = [line for line in report["table"].splitlines() if line.startswith("| small_cnn |")]
    assert row.count("x |") == 3  # three ratios
