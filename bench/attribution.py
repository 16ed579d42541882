"""Attribution speed: the reference way (per image, eager), the previous way (PAIR per image on our
compiled functions) and ours (batched across images), side by side.

Same model, images and parameters (``attribution`` in params.yaml). The reference does what
the paper's code does: for every image, PAIR ``saliency`` with an eager ``GradientTape``
``call_model_function`` on a clone of the model whose softmax is replaced by a linear
output (tf-keras-vis' ``ReplaceToLinear``), and tf-keras-vis ``Gradcam``/``GradcamPlusPlus``/
``Scorecam`` objects built anew for every image, and XRAI segmenting and integrating anew
for each algorithm. The previous way is PAIR's classes image by image on :class:`ExplainedModel`'s
compiled function (:mod:`medsaliency.attribution.pair_reference`). Ours is :mod:`medsaliency.attribution`.
Prints seconds per image per method for the three, the ratios, and the smallest Pearson r between
ours and each other's map of every image (NumPy's generator is re-seeded per image identically on both sides, so
SmoothGrad's noise is the same). Run after ``make run`` (it explains prepared test images)::

    .venv/bin/python bench/attribution.py --backbone small_cnn --images 6
    .venv/bin/python bench/attribution.py --images 2 --placements --placement-images 60

``--placements`` then times the attribute stage's tasks for the dataset's champion (loaded by each
worker from the registry) in one worker process, on the local cluster and on an external
two-worker cluster (``bench/placement.py``), and checks the maps are identical.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from medsaliency.attribution.explained_model import ExplainedModel
from medsaliency.attribution.methods import LABELS, compute_maps, image_seeds
from medsaliency.attribution.pair_reference import METHODS as PAIR_METHODS
from medsaliency.attribution.pair_reference import pair_map
from medsaliency.config import load_params
from medsaliency.io.npz import load_npz
from medsaliency.io.paths import prepared_dir

CAM_REFERENCES = {"gradcam": "Gradcam", "gradcam_plus_plus": "GradcamPlusPlus", "scorecam": "Scorecam"}


def linear_clone(model):
    """The model with its softmax replaced by a linear output, as tf-keras-vis' ReplaceToLinear does."""
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    clone.layers[-1].activation = keras.activations.linear
    return clone


def eager_call_model_function(linear_model):
    """The reference call function: an eager GradientTape per call."""
    import tensorflow as tf
    from saliency.core.base import INPUT_OUTPUT_GRADIENTS

    def call_model_function(images, call_model_args=None, expected_keys=None):
        images = tf.convert_to_tensor(np.asarray(images, np.float32))
        with tf.GradientTape() as tape:
            tape.watch(images)
            output = linear_model(images)[:, call_model_args["class"]]
        return {INPUT_OUTPUT_GRADIENTS: tape.gradient(output, images).numpy()}

    return call_model_function


def reference_map(method: str, model, linear_model, image: np.ndarray, target: int, seed: int, config, target_layer: str) -> np.ndarray:
    """One image, one method, the reference way: ``[H, W]`` float32."""
    if method in CAM_REFERENCES:
        return reference_cam(method, model, image, target, config, target_layer)
    if method == "random":
        return np.random.default_rng(seed).random(image.shape[:2], dtype=np.float32)
    return pair_map(method, eager_call_model_function(linear_model), image, target, seed, config)


def xrai_inputs(call_model_function, image: np.ndarray, target: int, config) -> tuple[list[np.ndarray], np.ndarray]:
    """PAIR's segmentation of ``image`` and XRAI's IG (mean of the black and white baselines), as the
    previous code computed them once for both XRAI algorithms."""
    from saliency.core import IntegratedGradients
    from saliency.core.xrai import _get_segments_felzenszwalb

    image = image.astype(np.float32)
    baselines = (np.full_like(image, image.min()), np.full_like(image, image.max()))
    attribution = np.mean(
        [
            IntegratedGradients().GetMask(
                image, call_model_function, {"class": target}, x_baseline=b, x_steps=config.xrai.steps, batch_size=config.batch_size
            )
            for b in baselines
        ],
        axis=0,
    )
    return _get_segments_felzenszwalb(image), attribution


def previous_fast_xrai(call_model_function, image: np.ndarray, target: int, config, segments, attribution) -> np.ndarray:
    """The previous code's Fast XRAI: PAIR's ``XRAI`` given the segmentation and IG computed for XRAI."""
    from saliency.core import XRAI, XRAIParameters

    parameters = XRAIParameters(steps=config.xrai.steps, area_threshold=config.xrai.area_threshold, algorithm="fast")
    mask = XRAI().GetMask(
        image.astype(np.float32),
        call_model_function,
        {"class": target},
        batch_size=config.batch_size,
        extra_parameters=parameters,
        segments=segments,
        base_attribution=attribution,
    )
    return np.asarray(mask, np.float32)


def reference_cam(method: str, model, image: np.ndarray, target: int, config, target_layer: str) -> np.ndarray:
    """A tf-keras-vis explainer built for this one image (model cloned inside), as the reference code does."""
    import tf_keras_vis.gradcam
    import tf_keras_vis.gradcam_plus_plus
    import tf_keras_vis.scorecam
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
    from tf_keras_vis.utils.scores import CategoricalScore

    module = {"gradcam": tf_keras_vis.gradcam, "gradcam_plus_plus": tf_keras_vis.gradcam_plus_plus, "scorecam": tf_keras_vis.scorecam}[
        method
    ]
    explainer = getattr(module, CAM_REFERENCES[method])(model, model_modifier=ReplaceToLinear(), clone=True)
    options = {"batch_size": config.batch_size} if method == "scorecam" else {}
    return explainer(CategoricalScore([target]), image[None], penultimate_layer=target_layer, **options)[0].astype(np.float32)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 1.0 if np.ptp(a) == np.ptp(b) == 0 else float("nan")
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="brain_tumor")
    parser.add_argument("--backbone", default="small_cnn")
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument(
        "--placements", action="store_true", help="then time the champion's tasks on 1 process, the local and an external cluster"
    )
    parser.add_argument("--scheduler", default=None, help="with --placements: an external scheduler's address (default: start one)")
    parser.add_argument(
        "--task-images", type=int, default=None, help="with --placements: images per task (default: compute.images_per_task)"
    )
    parser.add_argument(
        "--placement-images", type=int, default=None, help="with --placements: test images to explain there (default: --images)"
    )
    args = parser.parse_args()
    reference_comparison(args)
    if args.placements:
        from placement import with_task_images

        params = with_task_images(load_params(args.params), args.task_images)
        attribution_placements(args.dataset, args.placement_images or args.images, params, args.scheduler)


def attribution_placements(dataset: str, count: int, params, scheduler: str | None) -> None:
    """The attribute stage's tasks for ``dataset``'s champion on each placement of ``bench/placement.py``."""
    from placement import arrays_equal, identical, print_table, time_placements

    from medsaliency.attribution.explanation import choose_sample, explain, target_layer
    from medsaliency.io.artifacts import RegistryRecord
    from medsaliency.io.paths import registry_file
    from medsaliency.mlops.model_source import champion_source
    from medsaliency.mlops.tracking import configure_mlflow

    uri = configure_mlflow(params.mlflow)
    entry = RegistryRecord.read(registry_file(dataset)).explained()[0]
    config = params.attribution
    sample = choose_sample(load_npz(prepared_dir(dataset) / "test.npz"), len(params.dataset(dataset).classes), config)
    sample = type(sample)(*(getattr(sample, name)[:count] for name in sample.__dataclass_fields__))
    source = champion_source(entry.name, entry.champion_version, dataset, target_layer(entry.backbone, config), params, uri)
    legs = time_placements(
        lambda runner: explain(source, entry, sample, config, runner, params.compute).attributions.maps,
        count,
        params.compute.images_per_task,
        scheduler,
    )
    what = f"{entry.name} v{entry.champion_version}, {count} images x {len(config.methods)} methods"
    print(f"\nattribute tasks: {what}, cold (model loads included)")
    print_table(legs, identical(legs, arrays_equal))


def reference_comparison(args: argparse.Namespace) -> None:
    """Ours against the reference on a freshly initialised ``--backbone``, every configured method."""
    import keras

    from medsaliency.models.backbones import backbone_spec, build_classifier

    params = load_params(args.params)
    config = params.attribution
    test = load_npz(prepared_dir(args.dataset) / "test.npz")
    images, ids = test["x"][: args.images].astype(np.float32), test["ids"][: args.images]
    keras.utils.set_random_seed(params.seed)
    model = build_classifier(args.backbone, images.shape[1], len(test["classes"]), 0.0, channels=images.shape[-1])
    target_layer = config.target_layers.get(args.backbone) or backbone_spec(args.backbone).target_layer
    seeds = image_seeds(config.seed, ids)

    start = time.perf_counter()
    explained = ExplainedModel(model, target_layer)
    classes = explained.probabilities(images).argmax(axis=1).astype(np.int32)
    explained.layer_gradients(images[:1], classes[:1])
    explained.input_gradients(images[:1], classes[:1])
    setup = time.perf_counter() - start
    ours = compute_maps(explained, images, classes, config, seeds)

    previous_seconds, previous_maps = {}, {}
    for method in config.methods:
        if method not in PAIR_METHODS:  # unchanged since: the Grad-CAM family and Random
            previous_seconds[method], previous_maps[method] = ours.seconds_per_image[method], list(ours.maps[method])
            continue
        if method == "xrai_fast":  # the previous code reused XRAI's segmentation and IG: not timed again
            inputs = [xrai_inputs(explained.call_model_function, image, int(c), config) for image, c in zip(images, classes, strict=True)]
        start = time.perf_counter()
        if method == "xrai_fast":
            previous_maps[method] = [
                previous_fast_xrai(explained.call_model_function, image, int(c), config, *given)
                for image, c, given in zip(images, classes, inputs, strict=True)
            ]
        else:
            previous_maps[method] = [
                pair_map(method, explained.call_model_function, image, int(c), int(s), config)
                for image, c, s in zip(images, classes, seeds, strict=True)
            ]
        previous_seconds[method] = (time.perf_counter() - start) / len(images)

    linear_model = linear_clone(model)
    reference_seconds, reference_maps = {}, {}
    for method in config.methods:
        start = time.perf_counter()
        reference_maps[method] = [
            reference_map(method, model, linear_model, image, int(c), int(s), config, target_layer)
            for image, c, s in zip(images, classes, seeds, strict=True)
        ]
        reference_seconds[method] = (time.perf_counter() - start) / len(images)

    print(
        f"{args.backbone} on {len(images)} {args.dataset} test images of {images.shape[1]} px; ours: {setup:.2f} s once to build and trace"
    )
    print(
        f"{'method':<22}{'reference s/img':>16}{'previous s/img':>15}{'ours s/img':>12}{'x ref':>7}{'x prev':>7}{'r ref':>9}{'r prev':>9}"
    )
    for method in config.methods:
        r = min(pearson(a, b) for a, b in zip(ours.maps[method], reference_maps[method], strict=True))
        r_previous = min(pearson(a, b) for a, b in zip(ours.maps[method], previous_maps[method], strict=True))
        mine = ours.seconds_per_image[method]
        print(
            f"{LABELS[method]:<22}{reference_seconds[method]:>16.4f}{previous_seconds[method]:>15.4f}{mine:>12.4f}"
            f"{reference_seconds[method] / mine:>7.1f}{previous_seconds[method] / mine:>7.1f}{r:>9.6f}{r_previous:>9.6f}"
        )
    reference_total, ours_total = sum(reference_seconds.values()), sum(ours.seconds_per_image.values())
    previous_total = sum(previous_seconds.values())
    print(f"{'all methods, previous':<22}{previous_total:>16.4f}{'':>15}{ours_total:>12.4f}{'':>7}{previous_total / ours_total:>7.1f}")
    amortised = ours_total + setup / len(images)
    print(f"{'all methods':<22}{reference_total:>16.4f}{ours_total:>12.4f}{reference_total / ours_total:>8.1f}")
    print(
        f"overall ratio {reference_total / ours_total:.1f}x (with the one-time build and trace spread over "
        f"these {len(images)} images: {reference_total / amortised:.1f}x)"
    )


if __name__ == "__main__":
    main()
