"""The paper profile's work on an accelerator and on the CPU, side by side: training, attribution, PIC.

For each backbone, on random images of ``--size`` px (three classes), with medsaliency's own code:

- **training** (:func:`medsaliency.models.training.fit_classifier`, as the tune stage runs it): the
  first epoch of a new model (compile included), the steady epochs (median) and images/s; then a
  second model of the same architecture, as the next Optuna trial would build it, and its first
  epoch: with ``JAX_COMPILATION_CACHE_DIR`` set, XLA's persistent cache can serve its compile;
- **attribution**: every method of ``attribution.methods`` (params.yaml's twelve), images/s each
  and for all twelve together (:func:`medsaliency.attribution.explanation.explain`);
- **PIC**: AIC and SIC of those maps (:func:`medsaliency.evaluation.pic.compute_pic`), images/s.

The accelerator leg runs in this process with the ``--precision`` policy (``mixed_float16`` when an
accelerator is seen, else ``float32``); then the script runs itself again with the accelerator hidden (``JAX_PLATFORMS=cpu``,
``CUDA_VISIBLE_DEVICES=-1``) in ``float32``, and prints one table with the GPU/CPU ratios. It needs
Keras and its backend, NumPy, SciPy, scikit-image, Pillow, pandas, PyYAML, pydantic and PAIR's
``saliency``; no TensorFlow, MLflow or DVC. On a GPU machine that has JAX::

    KERAS_BACKEND=jax PYTHONPATH=src python bench/gpu_pipeline.py --size 225 --out gpu_pipeline.json

In CI it runs on the CPU at a tiny size, so that it cannot rot (both legs then run on the CPU)::

    .venv/bin/python bench/gpu_pipeline.py --size 32 --backbones small_cnn --train-images 32 --epochs 2 \\
        --explain-images 1 --budget-s 120
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PAPER_BACKBONES = (
    "vgg16",
    "vgg19",
    "resnet50",
    "resnet50v2",
    "densenet121",
    "xception",
    "inceptionv3",
    "inceptionresnetv2",
    "efficientnetb0",
)
CPU_ENVIRONMENT = {"JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": "-1"}


def random_split(count: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random images ``[count, size, size, 1]`` in [0, 1] and their labels (three classes)."""
    rng = np.random.default_rng(seed)
    return rng.random((count, size, size, 1), dtype=np.float32), np.arange(count) % 3


def time_training(backbone: str, size: int, images: int, epochs: int, params) -> dict:
    """Two models of one architecture fitted in turn (two trials): their first epochs and the steady epochs."""
    import keras

    from medsaliency.config import Hyperparameters
    from medsaliency.models.backbones import build_classifier
    from medsaliency.models.training import fit_classifier

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    hp = Hyperparameters(**params.tune.paper_trial.model_dump())
    train, val = random_split(images, size, 0), random_split(max(images // 4, 3), size, 1)
    train_config = params.train.model_copy(update={"patience": epochs})
    firsts, steady = [], []
    for trial in range(2):
        seconds: list[float] = []
        keras.backend.clear_session()
        model = build_classifier(backbone, size, 3, hp.dropout)
        fit_classifier(model, train, val, hp, epochs if trial == 0 else 1, train_config, seed=trial, callbacks=[EpochClock()])
        firsts.append(seconds[0])
        steady.extend(seconds[1:])
    epoch = statistics.median(steady) if steady else float("nan")
    return {
        "first_epoch_s": round(firsts[0], 2),
        "next_trial_first_epoch_s": round(firsts[1], 2),
        "epoch_s": round(epoch, 3),
        "train_images_per_s": round(images / epoch, 1),
        "params_m": round(model.count_params() / 1e6, 2),
    }, model


def time_attribution_and_pic(model, backbone: str, size: int, images: int, params) -> dict:
    """Every configured method on ``images`` random images, then PIC of their maps: images/s."""
    from medsaliency.attribution.explained_model import ExplainedModel
    from medsaliency.attribution.explanation import Sample, explain_model
    from medsaliency.attribution.methods import image_seeds
    from medsaliency.evaluation.model_evaluation import pic_settings, random_masks
    from medsaliency.evaluation.pic import compute_pic

    x, y = random_split(images, size, 2)
    ids = np.array([f"bench-{n}" for n in range(images)])
    empty = np.zeros(x.shape[:3], np.uint8)
    config = params.attribution
    sample = Sample(x, x, empty, empty, y, ids, ids, image_seeds(config.seed, ids))
    explanation = explain_model(model, backbone, "bench", backbone, sample, config)
    maps = np.stack([explanation.attributions.maps[m] for m in config.methods])
    predict = ExplainedModel(model, explanation.target_layer).probabilities  # built outside the PIC timing
    start = time.perf_counter()
    compute_pic(x, maps, y, explanation.classes, predict, pic_settings(params), random_masks(ids, (size, size), params))
    pic_seconds = time.perf_counter() - start
    per_method = explanation.attributions.seconds_per_image
    return {
        "attribution_images_per_s": {method: round(1.0 / seconds, 3) for method, seconds in per_method.items()},
        "all_methods_images_per_s": round(1.0 / sum(per_method.values()), 4),
        "pic_images_per_s": round(images / pic_seconds, 3),
    }


def run_leg(args: argparse.Namespace) -> dict:
    """This process's measurements, backbone by backbone, until ``--budget-s`` is spent."""
    import keras

    from medsaliency import backends
    from medsaliency.config import load_params

    accelerators = backends.current().devices()
    policy = args.precision if args.precision != "auto" else "mixed_float16" if accelerators else "float32"
    params = load_params(REPO / "params.yaml")
    params = params.model_copy(update={"train": params.train.model_copy(update={"mixed_precision": policy == "mixed_float16"})})
    keras.mixed_precision.set_global_policy(policy)
    leg = {"backend": backends.name(), "devices": accelerators or ["cpu"], "policy": policy, "results": {}}
    print(f"{leg['backend']} on {', '.join(leg['devices'])}, policy {policy}", flush=True)
    started = time.perf_counter()
    for backbone in args.backbones:
        if time.perf_counter() - started > args.budget_s:
            leg["results"][backbone] = {"skipped": f"budget of {args.budget_s} s spent"}
            continue
        training, model = time_training(backbone, args.size, args.train_images, args.epochs, params)
        result = {**training, **time_attribution_and_pic(model, backbone, args.size, args.explain_images, params)}
        leg["results"][backbone] = result
        print(backbone, json.dumps(result), flush=True)
    return leg


def cpu_leg(args: argparse.Namespace) -> dict:
    """The same measurements in a child process that sees no accelerator, in float32."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "cpu.json"
        command = [sys.executable, __file__, "--leg", "only", "--precision", "float32", "--out", str(out), *_shared_arguments(args)]
        subprocess.run(command, check=True, env=os.environ | CPU_ENVIRONMENT)
        return json.loads(out.read_text())


def _shared_arguments(args: argparse.Namespace) -> list[str]:
    return [
        "--size",
        str(args.size),
        "--train-images",
        str(args.train_images),
        "--epochs",
        str(args.epochs),
        "--explain-images",
        str(args.explain_images),
        "--budget-s",
        str(args.budget_s),
        "--backbones",
        *args.backbones,
    ]


def markdown_table(accelerated: dict, cpu: dict) -> str:
    """One row per backbone: both legs' figures and the accelerator/CPU ratios of images/s."""
    header = (
        "| backbone | first epoch (s) | next trial's first epoch (s) | epoch (s) | train img/s | CPU train img/s | train ratio "
        "| 12 methods img/s | CPU | ratio | PIC img/s | CPU | ratio |"
    )
    rows = [header, "|" + "---|" * 13]
    for backbone, fast in accelerated["results"].items():
        slow = cpu["results"].get(backbone, {})
        if "skipped" in fast or "skipped" in slow:
            rows.append(f"| {backbone} | {fast.get('skipped') or slow.get('skipped')} |" + " |" * 11)
            continue
        pairs = [(fast[key], slow[key]) for key in ("train_images_per_s", "all_methods_images_per_s", "pic_images_per_s")]
        epochs = f"{fast['first_epoch_s']} | {fast['next_trial_first_epoch_s']} | {fast['epoch_s']}"
        rows.append(f"| {backbone} | {epochs} | " + " | ".join(f"{a} | {b} | {a / b:.1f}x" for a, b in pairs) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=225)
    parser.add_argument("--backbones", nargs="+", default=list(PAPER_BACKBONES))
    parser.add_argument("--train-images", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the first model (the first one compiles)")
    parser.add_argument("--explain-images", type=int, default=2)
    parser.add_argument("--precision", default="auto", choices=("auto", "mixed_float16", "float32"), help="auto: mixed on an accelerator")
    parser.add_argument("--budget-s", type=float, default=300.0, help="start no new backbone after this many seconds (each leg)")
    parser.add_argument("--leg", default="both", choices=("both", "only"), help="only: this process's leg, no CPU leg")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    report = {"accelerated": run_leg(args)}
    if args.leg == "both":
        report["cpu"] = cpu_leg(args)
        report["table"] = markdown_table(report["accelerated"], report["cpu"])
        print(report["table"], flush=True)
    if args.out:
        args.out.write_text(json.dumps(report if args.leg == "both" else report["accelerated"], indent=2))


if __name__ == "__main__":
    main()
