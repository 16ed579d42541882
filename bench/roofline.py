"""How close attribution, PIC, insertion/deletion, ROAD and training run to what this CPU can do.

One process, one thread (as every pipeline worker runs: ``SINGLE_THREAD_ENVIRONMENT``), the
Keras backend of params.yaml. Three parts:

1. **Attainable float32 throughput** of this core with that backend: a square matmul and the
   model's own convolutions (each ``Conv2D`` of the backbone at its input shape, batch
   ``attribution.batch_size``), best of several runs. The largest is the roof.
2. **FLOPs, counted**: per image forward, ``F`` = the sum over the model's layers of
   2 x multiply-adds (``Conv2D``: out_h x out_w x out_c x k_h x k_w x in_c; ``Dense``: in x out;
   batch norm, activations and pooling are ignored: under 2% here). The model functions are
   wrapped to count the rows each measure sends through them; a row costs ``F`` for a forward
   (``logits``; ``layer_gradients`` too, whose backward pass stops at the target layer, the last
   convolution here) and ``2F`` for an input gradient (``input_gradients``: the forward plus the
   backward pass to the input, one more multiply-add per forward one);
   a training image costs ``3F`` (forward, backward to the activations and to the weights).
3. **Time** of each attribution method, of PIC, insertion/deletion and ROAD per image (every
   method's map) and of a training epoch, on a freshly built ``--backbone`` at the prepared
   size, on the prepared test images of ``--dataset`` (run ``make run`` first, or at least
   ``dvc repro prepare``)::

    .venv/bin/python bench/roofline.py --dataset brain_tumor --images 8

Prints per line: seconds and GFLOP per image (the training line: per epoch), the GFLOP/s reached
and its fraction of the roof.
What is left between that fraction and 1 is what is not arithmetic (Python, segmentation, blurs,
entropy estimation, imputation solves) or arithmetic below the roof (small batches).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from medsaliency.backends import SINGLE_THREAD_ENVIRONMENT

os.environ.update(SINGLE_THREAD_ENVIRONMENT)

import numpy as np


def best_seconds(function, repeats: int = 5) -> float:
    """The fastest of ``repeats`` timed calls (after one warm-up call)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def attainable(model, batch_size: int) -> dict[str, float]:
    """GFLOP/s of a 1024 x 1024 float32 matmul and of each of ``model``'s convolutions (forward, batch ``batch_size``)."""
    import keras

    rates = {}
    a = keras.ops.convert_to_tensor(np.random.default_rng(0).random((1024, 1024), dtype=np.float32))
    rates["matmul 1024"] = 2 * 1024**3 / best_seconds(lambda: keras.ops.convert_to_numpy(keras.ops.matmul(a, a))) / 1e9
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            shape = (batch_size, *layer.input.shape[1:])
            x = keras.ops.convert_to_tensor(np.random.default_rng(1).random(shape, dtype=np.float32))
            flops = batch_size * conv_flops(layer)
            rates[f"conv {layer.name} {tuple(shape[1:])}->{layer.filters}"] = (
                flops / best_seconds(lambda layer=layer, x=x: keras.ops.convert_to_numpy(layer(x))) / 1e9
            )
    return rates


def conv_flops(layer) -> float:
    """2 x multiply-adds of one image through ``layer`` (a ``Conv2D``)."""
    height, width, out_channels = layer.output.shape[1:]
    k_h, k_w = layer.kernel_size
    return 2.0 * height * width * out_channels * k_h * k_w * layer.input.shape[-1]


def forward_flops(model) -> float:
    """``F``: 2 x multiply-adds of one image's forward pass (convolutions and dense layers)."""
    import keras

    total = 0.0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            total += conv_flops(layer)
        elif isinstance(layer, keras.layers.Dense):
            total += 2.0 * layer.input.shape[-1] * layer.units
    return total


class Counted:
    """Wraps an :class:`ExplainedModel`'s functions to count rows: forward rows and gradient rows."""

    def __init__(self, explained):
        self.forward = self.gradient = 0
        functions = explained._functions

        def logits(x):
            self.forward += len(x)
            return functions.logits(x)

        def input_gradients(x, classes):
            self.gradient += len(x)
            return functions.input_gradients(x, classes)

        def layer_gradients(x, classes):
            self.forward += len(x)  # the backward pass stops at the target layer: here the last convolution
            return functions.layer_gradients(x, classes)

        explained._functions = type(functions)(logits, input_gradients, layer_gradients)

    def flops(self, per_forward: float) -> float:
        return per_forward * (self.forward + 2 * self.gradient)

    def reset(self) -> None:
        self.forward = self.gradient = 0


def timed(counter: Counted, function) -> tuple[float, float]:
    """(seconds, counted forward-equivalent rows x 1) of one call of ``function``."""
    counter.reset()
    start = time.perf_counter()
    function()
    return time.perf_counter() - start, counter.forward + 2 * counter.gradient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="brain_tumor")
    parser.add_argument("--backbone", default="small_cnn")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3, help="training epochs timed (the first is dropped)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")

    import keras

    from medsaliency import backends
    from medsaliency.attribution.explained_model import ExplainedModel
    from medsaliency.attribution.methods import LABELS, compute_maps, image_seeds
    from medsaliency.config import load_params
    from medsaliency.io.npz import load_npz
    from medsaliency.io.paths import prepared_dir
    from medsaliency.models.backbones import backbone_spec, build_classifier

    params = load_params(args.params)
    backends.select(params.keras_backend, str(args.params))
    config = params.attribution
    test = load_npz(prepared_dir(args.dataset) / "test.npz")
    images, ids = test["x"][: args.images].astype(np.float32), test["ids"][: args.images]
    keras.utils.set_random_seed(params.seed)
    model = build_classifier(args.backbone, images.shape[1], len(test["classes"]), 0.0, channels=images.shape[-1])
    explained = ExplainedModel(model, config.target_layers.get(args.backbone) or backbone_spec(args.backbone).target_layer)
    counter = Counted(explained)
    per_forward = forward_flops(model)
    rates = attainable(model, config.batch_size)
    roof = max(rates.values())

    print(f"{args.backbone} at {images.shape[1]} px, Keras on {backends.name()}, one thread; F = {per_forward / 1e6:.1f} MFLOP per forward")
    for name, rate in rates.items():
        print(f"  attainable {name:<40}{rate:>8.1f} GFLOP/s")
    print(f"  roof: {roof:.1f} GFLOP/s\n")
    header = f"{'work':<36}{'s/image':>10}{'GFLOP/image':>13}{'GFLOP/s':>9}{'of roof':>9}"

    def line(name: str, seconds: float, rows: float, count: int) -> None:
        flops = rows * per_forward / count
        rate = flops / (seconds / count) / 1e9
        print(f"{name:<36}{seconds / count:>10.4f}{flops / 1e9:>13.3f}{rate:>9.1f}{rate / roof:>9.0%}")

    classes = explained.probabilities(images, config.batch_size).argmax(axis=1).astype(np.int32)
    seeds = image_seeds(config.seed, ids)
    compute_maps(explained, images[:1], classes[:1], config, seeds[:1])  # traces and caches once
    print(header)
    total_seconds = total_rows = 0.0
    maps = {}
    for method in config.methods:
        one = config.model_copy(update={"methods": [method]})
        seconds, rows = timed(counter, lambda one=one: maps.update(compute_maps(explained, images, classes, one, seeds).maps))
        line(LABELS[method], seconds, rows, len(images))
        total_seconds, total_rows = total_seconds + seconds, total_rows + rows
    line("all methods (one attribution pass)", total_seconds, total_rows, len(images))
    evaluation_lines(explained, counter, images, test, ids, classes, np.stack([maps[m] for m in config.methods]), params, line)
    training_line(args, model, test, params, line)


def evaluation_lines(explained, counter, images, test, ids, classes, maps, params, line) -> None:
    """PIC, insertion/deletion and ROAD of every method's map, per image."""
    from functools import partial

    from medsaliency.evaluation.insertion_deletion import InsertionDeletionSettings, image_insertion_deletion
    from medsaliency.evaluation.model_evaluation import pic_settings, random_masks
    from medsaliency.evaluation.pic import image_pic
    from medsaliency.evaluation.pixel_order import tie_break
    from medsaliency.evaluation.road import RoadSettings, image_road

    predict = partial(explained.probabilities, batch_size=params.attribution.batch_size)
    pixels = images.shape[1] * images.shape[2]
    settings, masks = pic_settings(params), random_masks(ids, images.shape[1:3], params)
    labels = test["y"][: len(images)]
    evaluation = params.evaluation
    work = {
        "PIC (every map)": lambda n: image_pic(images[n], maps[:, n], masks[n], labels[n], classes[n], explained.probabilities, settings),
        "insertion/deletion (every map)": lambda n: image_insertion_deletion(
            images[n],
            maps[:, n],
            classes[n],
            predict,
            InsertionDeletionSettings(**evaluation.insertion_deletion.model_dump()),
            tie_break(pixels, np.random.default_rng(n)),
        ),
        "ROAD (every map)": lambda n: image_road(
            images[n],
            maps[:, n],
            classes[n],
            predict,
            RoadSettings(**evaluation.road.model_dump()),
            np.random.default_rng(n),
            tie_break(pixels, np.random.default_rng(n)),
        ),
    }
    for name, function in work.items():
        seconds, rows = timed(counter, lambda function=function: [function(n) for n in range(len(images))])
        line(name, seconds, rows, len(images))


def training_line(args, model, test, params, line) -> None:
    """A steady training epoch of the tune stage's loop (the paper trial's settings), per training image."""
    from medsaliency.config import Hyperparameters
    from medsaliency.models.training import fit_classifier

    train = load_train(args.dataset)
    hp = Hyperparameters(**params.tune.paper_trial.model_dump())
    times = []

    class EpochClock:
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    import keras

    clock = type("Clock", (keras.callbacks.Callback,), dict(EpochClock.__dict__))()
    fit_classifier(model, train, train, hp, args.epochs, params.train, params.seed, callbacks=[clock], early_stopping=False)
    images = len(train[0])
    copies = params.train.featureless.copies
    # per epoch: (1 + copies) x N training images (3F each), N validation images and N BN-statistics images (F each)
    rows = images * (3 * (1 + copies) + 2)
    line(f"training epoch ({images} images)", float(np.median(times[1:])), rows, 1)


def load_train(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    from medsaliency.io.npz import load_npz
    from medsaliency.io.paths import prepared_dir

    train = load_npz(prepared_dir(dataset) / "train.npz")
    return train["x"].astype(np.float32), train["y"]


if __name__ == "__main__":
    main()
