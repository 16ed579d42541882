"""PIC speed: PAIR ``compute_pic_metric`` the reference way against ours, on the same inputs, side by side.

Same model, images, maps, random masks, thresholds and the ``webp`` estimator. The reference
does what the paper's code does: for every image and method, PAIR ``compute_pic_metric`` once
for SIC and once for AIC, each calling the model (eagerly) once per blurred image. Ours is
:func:`medsaliency.evaluation.pic.compute_pic` (shared blurs and entropies, one batch per
image, in this process). Prints images per second (all methods, both curves), the ratio and
the largest |AUC difference|. Run after ``make run``; ``--size 224`` upsamples the images and
maps (the paper's resolution) and lets the trained model read them through a resize::

    .venv/bin/python bench/pic.py --dataset brain_tumor --images 6
    .venv/bin/python bench/pic.py --dataset brain_tumor --images 2 --size 224
    .venv/bin/python bench/pic.py --dataset brain_tumor --images 24 --placements

``--placements`` then times the evaluate stage's PIC tasks (the champion loaded by each worker from
the registry, at the prepared size) in one worker process, on the local cluster and on an
external two-worker cluster (``bench/placement.py``), and checks the AUCs are identical.

It also splits the cost of one of our blurs (qhull's Delaunay triangulation, SciPy's
barycentric transforms of every triangle, the interpolation itself) and of one WebP entropy:
the triangulation of the known pixels is work PAIR does too and parity forbids changing, so
it bounds how far any exact implementation can get ahead.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from medsaliency.config import load_params
from medsaliency.evaluation.blur import from_uint8, to_uint8
from medsaliency.evaluation.pic import PicSettings, compute_pic


def reference_aucs(images, maps, labels, classes, masks, model, settings: PicSettings) -> dict[str, np.ndarray]:
    """PAIR, per image, per method, per curve; excluded images are NaN."""
    import tensorflow as tf
    from saliency.metrics import pic as pair

    channels = images.shape[-1]

    def predictor(kind: str, n: int):
        def predict(batch):
            probabilities = model(tf.constant(from_uint8(batch, channels)), training=False).numpy()
            return probabilities[:, classes[n]] if kind == "sic" else (probabilities.argmax(axis=1) == labels[n]).astype(float)

        return predict

    aucs = {kind: np.full(maps.shape[:2], np.nan) for kind in ("aic", "sic")}
    for n in range(len(images)):
        image = to_uint8(images[n])
        for m in range(len(maps)):
            for kind in aucs:
                try:
                    result = pair.compute_pic_metric(
                        image,
                        maps[m, n],
                        masks[n],
                        predictor(kind, n),
                        list(settings.thresholds),
                        min_pred_value=settings.min_pred_value,
                        num_data_points=settings.num_points,
                    )
                    aucs[kind][m, n] = result.auc
                except pair.ComputePicMetricError:
                    pass
                except TypeError:  # PAIR returns an [H, W, 1] image for an all-revealed grayscale mask (a constant map); PIL refuses it
                    aucs[kind][m, n] = np.inf
    return aucs


def blur_cost_breakdown(images, maps, masks, thresholds) -> dict[str, float]:
    """Median milliseconds per blurred image of each step of :func:`medsaliency.evaluation.blur.blur`, and of the WebP entropy."""
    from scipy.interpolate import LinearNDInterpolator
    from scipy.spatial import Delaunay

    from medsaliency.evaluation.blur import blur
    from medsaliency.evaluation.entropy import webp_entropy
    from medsaliency.evaluation.pic import revealed_mask

    steps: dict[str, list[float]] = {"triangulation": [], "transforms": [], "interpolation": [], "whole blur": [], "webp entropy": []}
    for n, image in enumerate(images):
        pixels = to_uint8(image)
        for saliency in maps[:, n]:
            for threshold in thresholds:
                known = revealed_mask(saliency, threshold, masks[n])
                known[[0, 0, -1, -1], [0, -1, 0, -1]] = True
                clock = [time.perf_counter()]
                triangulation = Delaunay(np.argwhere(known).astype(np.float64))
                clock.append(time.perf_counter())
                triangulation.transform  # noqa: B018  (computed lazily, for every triangle, on first use)
                clock.append(time.perf_counter())
                LinearNDInterpolator(triangulation, pixels[known].astype(np.float64).reshape(-1, 1))(np.argwhere(~known))
                clock.append(time.perf_counter())
                blurred = blur(pixels, known)
                clock.append(time.perf_counter())
                webp_entropy(blurred)
                clock.append(time.perf_counter())
                for name, begin, end in zip(steps, clock, clock[1:], strict=False):
                    steps[name].append(1e3 * (end - begin))
    return {name: float(np.median(values)) for name, values in steps.items()}


def inputs(dataset: str, size: int | None, count: int, params):
    """Images, maps, labels, classes, the model and a label: the first top-k model's maps as the
    attribute stage saved them; with ``size``, images and maps upsampled and the model reading them
    through a ``Resizing`` layer back to its own side (so its predictions, and the exclusions, stay
    those of the trained model while every blur happens at ``size``)."""
    import keras
    from scipy.ndimage import zoom

    from medsaliency.io.artifacts import MapsFile, RegistryRecord
    from medsaliency.io.paths import maps_file, registry_file
    from medsaliency.mlops.registry import champion_uri, load_model
    from medsaliency.mlops.tracking import configure_mlflow

    configure_mlflow(params.mlflow)
    entry = RegistryRecord.read(registry_file(dataset)).explained()[0]
    saved = MapsFile.read(maps_file(dataset, entry.name))
    images, maps = saved.images[:count], saved.maps[:, :count]
    labels, classes = saved.labels[:count], saved.explained_class[:count]
    model = load_model(champion_uri(entry.name, saved.model_version, dataset))
    native = images.shape[1]
    if size is None or size == native:
        return images, maps, labels, classes, model, entry.name
    factor = size / native
    images = np.clip(zoom(images, (1, factor, factor, 1), order=1), 0, 1).astype(np.float32)
    maps = zoom(maps, (1, 1, factor, factor), order=1).astype(np.float32)
    wrapped = keras.Sequential([keras.Input((size, size, images.shape[-1])), keras.layers.Resizing(native, native), model])
    return images, maps, labels, classes, wrapped, f"{entry.name} read at {size} px"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="brain_tumor")
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--size", type=int, default=None, help="resize images and maps to this side (default: as prepared)")
    parser.add_argument("--placements", action="store_true", help="then time PIC tasks on 1 process, the local and an external cluster")
    parser.add_argument("--scheduler", default=None, help="with --placements: an external scheduler's address (default: start one)")
    parser.add_argument(
        "--task-images", type=int, default=None, help="with --placements: images per task (default: compute.images_per_task)"
    )
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args()

    from medsaliency.evaluation.blur import random_pixel_mask

    params = load_params(args.params)
    images, maps, labels, classes, model, label = inputs(args.dataset, args.size, args.images, params)
    config = params.evaluation
    settings = PicSettings(
        tuple(config.thresholds), "webp", config.random_mask_fraction, config.min_pred_value, config.keep_monotonous, config.num_points
    )
    rng = np.random.default_rng(config.seed)
    masks = np.stack([random_pixel_mask(*images.shape[1:3], settings.random_mask_fraction, rng) for _ in images])
    import tensorflow as tf

    compiled = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec((None, *images.shape[1:]), tf.float32)])
    predict = lambda x: compiled(np.asarray(x, np.float32)).numpy()  # noqa: E731
    predict(images[:1])  # trace once, outside the timing

    start = time.perf_counter()
    ours = compute_pic(images, maps, labels, classes, predict, settings, masks)
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    theirs = reference_aucs(images, maps, labels, classes, masks, model, settings)
    reference_seconds = time.perf_counter() - start

    crashed = sum(int(np.isinf(theirs[k]).sum()) for k in ("aic", "sic"))
    for k in ("aic", "sic"):
        ours.auc[k][np.isinf(theirs[k])] = theirs[k][np.isinf(theirs[k])] = np.nan
    delta = max(float(np.nanmax(np.abs(ours.auc[k] - theirs[k]), initial=0.0)) for k in ("aic", "sic"))
    same_exclusions = all(np.array_equal(np.isnan(ours.auc[k]), np.isnan(theirs[k])) for k in ("aic", "sic"))
    n, m = len(images), len(maps)
    print(f"{label}: {n} images of {images.shape[1]} px x {m} methods x {len(settings.thresholds)} thresholds, AIC + SIC, webp")
    print(f"reference (PAIR per method and curve): {reference_seconds:8.2f} s  {n / reference_seconds:7.3f} images/s")
    print(f"ours (shared, batched, 1 process):      {ours_seconds:8.2f} s  {n / ours_seconds:7.3f} images/s")
    print(f"ratio {reference_seconds / ours_seconds:.1f}x; max |delta AUC| {delta:.2e}; same exclusions: {same_exclusions}")
    costs = blur_cost_breakdown(images, maps, masks, settings.thresholds)
    print("ours, median ms per blurred image: " + ", ".join(f"{name} {value:.2f}" for name, value in costs.items()))
    if crashed:
        print(f"PAIR failed on {crashed} (method, image, curve) cases: a constant map on a grayscale image (left out of the comparison)")
    if args.placements:
        from placement import with_task_images

        pic_placements(args.dataset, args.images, with_task_images(params, args.task_images), args.scheduler)


def pic_placements(dataset: str, count: int, params, scheduler: str | None) -> None:
    """The evaluate stage's tasks (PIC only: no sanity maps) on each placement of ``bench/placement.py``."""
    from dataclasses import replace

    from placement import arrays_equal, identical, print_table, time_placements

    from medsaliency.evaluation.model_evaluation import evaluate_model
    from medsaliency.io.artifacts import MapsFile, RegistryRecord
    from medsaliency.io.paths import maps_file, registry_file
    from medsaliency.mlops.model_source import champion_source
    from medsaliency.mlops.tracking import configure_mlflow

    uri = configure_mlflow(params.mlflow)
    entry = RegistryRecord.read(registry_file(dataset)).explained()[0]
    saved = MapsFile.read(maps_file(dataset, entry.name))
    arrays = ("images", "clean_images", "masks", "markers", "ids", "labels", "explained_class", "probabilities")
    subset = replace(saved, maps=saved.maps[:, :count], **{name: getattr(saved, name)[:count] for name in arrays})
    source = champion_source(entry.name, saved.model_version, dataset, saved.target_layer, params, uri)
    off = {"sanity_methods": [], "insertion_deletion": None, "road": None, "random_logit": False, "complexity": False}
    pic_only = params.model_copy(update={"evaluation": params.evaluation.model_copy(update=off)})
    mask_kind = params.dataset(dataset).mask_kind
    legs = time_placements(
        lambda runner: evaluate_model(subset, source, pic_only, mask_kind, runner).pic.auc,
        len(subset.ids),
        params.compute.images_per_task,
        scheduler,
    )
    print(f"\nPIC tasks of evaluate: {len(subset.ids)} images x {len(saved.methods)} methods, AIC + SIC, cold (model loads included)")
    print_table(legs, identical(legs, arrays_equal))


if __name__ == "__main__":
    main()
