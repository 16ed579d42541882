"""XRAI's segmentation side by side: PAIR's ``_get_segments_felzenszwalb`` against ours (PAIR's regions,
dilated all at once by :func:`medsaliency.attribution.xrai.dilate_masks`), on the prepared test images.

    .venv/bin/python bench/xrai_segments.py --dataset brain_tumor --images 20    # after make run (or dvc repro prepare@...)

Prints the median seconds per image of each, their ratio, and checks that every mask is identical.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="brain_tumor")
    parser.add_argument("--images", type=int, default=20)
    args = parser.parse_args()
    from saliency.core.xrai import _get_segments_felzenszwalb

    from medsaliency.attribution import xrai
    from medsaliency.io.npz import load_npz
    from medsaliency.io.paths import prepared_dir

    images = load_npz(Path(prepared_dir(args.dataset)) / "test.npz")["x"][: args.images].astype(np.float32)
    pair_seconds, our_seconds = [], []
    for image in images:
        start = time.perf_counter()
        expected = _get_segments_felzenszwalb(image)
        pair_seconds.append(time.perf_counter() - start)
        xrai._segments.clear()  # no cache hit: time the work
        start = time.perf_counter()
        found = xrai.image_segments(image)
        our_seconds.append(time.perf_counter() - start)
        if len(found) != len(expected) or not all(np.array_equal(a, b) for a, b in zip(found, expected, strict=True)):
            raise SystemExit("the masks differ from PAIR's")
    pair, ours = statistics.median(pair_seconds), statistics.median(our_seconds)
    print(f"{args.dataset}, {len(images)} images: PAIR {pair:.3f} s per image, ours {ours:.3f} s ({pair / ours:.2f}x); masks identical")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
