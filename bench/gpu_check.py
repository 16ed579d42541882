"""GPU check for the paper profile: each backbone of the registry trains at 225 px, mixed precision.

Builds every model with :func:`medsaliency.models.backbones.build_classifier` exactly as the
tune stage does, fits it on random 225x225x1 images with the paper's SGD setting under the
``mixed_float16`` policy, and prints seconds per epoch, images per second, the compute dtype
of the convolutions and the device the backend placed the work on. It runs on whatever Keras
backend is installed (TensorFlow in our image; JAX on a machine without TensorFlow), e.g.::

    KERAS_BACKEND=jax PYTHONPATH=src python bench/gpu_check.py --images 512 --out gpu_check.json
"""

from __future__ import annotations

import argparse
import json
import time

import keras
import numpy as np

from medsaliency.models.backbones import BACKBONES, build_classifier


def devices() -> list[str]:
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return [str(device) for device in jax.devices()]
    if backend == "tensorflow":
        import tensorflow as tf

        return [device.name for device in tf.config.list_physical_devices()]
    return [backend]


def time_backbone(name: str, x: np.ndarray, y: np.ndarray, batch_size: int) -> dict:
    model = build_classifier(name, x.shape[1], int(y.max()) + 1, dropout=0.2)
    model.compile(
        optimizer=keras.optimizers.SGD(0.001, momentum=0.9395, weight_decay=0.0003),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    first = time.perf_counter() - start
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    epoch = time.perf_counter() - start
    conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    return {
        "backbone": name,
        "first_epoch_s": round(first, 2),
        "epoch_s": round(epoch, 3),
        "images_per_s": round(len(x) / epoch, 1),
        "conv_compute_dtype": conv.compute_dtype,
        "output_dtype": str(model.output.dtype),
        "params_m": round(model.count_params() / 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=225)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--backbones", nargs="*", default=[name for name in BACKBONES])
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    keras.mixed_precision.set_global_policy("mixed_float16")
    rng = np.random.default_rng(0)
    x = rng.random((args.images, args.size, args.size, 1), dtype=np.float32)
    y = rng.integers(0, 3, args.images)
    report = {"backend": keras.backend.backend(), "devices": devices(), "policy": keras.mixed_precision.global_policy().name, "results": []}
    print(f"backend {report['backend']}, devices {report['devices']}, policy {report['policy']}", flush=True)
    for name in args.backbones:
        result = time_backbone(name, x, y, args.batch_size)
        report["results"].append(result)
        print(json.dumps(result), flush=True)
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
