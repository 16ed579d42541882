"""Atomic outputs: a failure keeps the old output; a killed writer's staging leftovers go at the next write."""

import subprocess
import sys
import time

import pytest

from medsaliency.io.atomic import staged_directory, staged_file

WRITER = """
import sys, time
from pathlib import Path
from medsaliency.io.atomic import staged_directory
with staged_directory(Path(sys.argv[1])) as staging:
    (staging / "half.npz").write_bytes(b"half")
    print("writing", flush=True)
    time.sleep(60)
"""


def test_a_failed_write_keeps_the_earlier_output(tmp_path):
    target = tmp_path / "out"
    with staged_directory(target) as staging:
        (staging / "a.txt").write_text("first")
    with pytest.raises(RuntimeError), staged_directory(target) as staging:
        (staging / "a.txt").write_text("second")
        raise RuntimeError("stage failed")
    assert (target / "a.txt").read_text() == "first" and [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_killed_writers_staging_folder_is_removed_when_the_output_is_next_written(tmp_path):
    target = tmp_path / "out"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    writer.kill()
    writer.wait()
    (leftover,) = tmp_path.iterdir()
    assert leftover.name.startswith(f".out.staging-{writer.pid}-") and (leftover / "half.npz").is_file()
    with staged_directory(target) as staging:
        (staging / "a.txt").write_text("done")
        assert not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_live_writers_staging_is_left_alone_and_stale_files_are_cleared(tmp_path):
    target = tmp_path / "registry.json"
    live = tmp_path / f".registry.json.{1}.abc"  # pid 1 always runs
    live.write_text("another writer's")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    time.sleep(0.1)
    stale = tmp_path / f".registry.json.{dead}.xyz"
    stale.write_text("half")
    with staged_file(target) as staging:
        staging.write_text("{}\n")
    assert target.read_text() == "{}\n" and live.exists() and not stale.exists()
