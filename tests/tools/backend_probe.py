"""What one Keras backend makes of a saved model: predictions, every method's maps, PIC AUCs.

Run as a script under the backend to probe (``KERAS_BACKEND`` is read when Keras is imported)::

    KERAS_BACKEND=jax python tests/tools/backend_probe.py MODEL INPUTS OUT [--resave PATH]

``MODEL``: a ``.keras`` file or a ``models:/`` URI (``MLFLOW_TRACKING_URI`` set); ``INPUTS``: an
``.npz`` with ``images`` ``[N, S, S, C]``, ``labels`` and ``ids`` ``[N]``; ``OUT``: an ``.npz``
with ``backend``, ``logits``, ``maps`` ``[M, N, S, S]``, ``methods``, ``aic`` and ``sic`` ``[M, N]``.
``--resave`` writes the loaded model back as ``.keras`` from this backend; ``--pic-maps`` (another
probe's ``OUT``) computes PIC on those maps instead of this backend's own, so that two backends' AUCs
differ only by what their models make of the same blurred images.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml

TINY_PARAMS = Path(__file__).resolve().parents[1] / "tiny_params.yaml"


def load(model: str):
    import keras

    if model.startswith("models:/"):
        import mlflow.keras

        return mlflow.keras.load_model(model)
    return keras.saving.load_model(model, safe_mode=True)


def probe(model, images: np.ndarray, labels: np.ndarray, ids: np.ndarray, pic_maps: np.ndarray | None = None) -> dict[str, np.ndarray]:
    import keras

    from medsaliency.attribution.explained_model import ExplainedModel
    from medsaliency.attribution.explanation import Sample, explain_model
    from medsaliency.attribution.methods import image_seeds
    from medsaliency.config import parse_params
    from medsaliency.evaluation.model_evaluation import pic_settings, random_masks
    from medsaliency.evaluation.pic import compute_pic

    params = parse_params(yaml.safe_load(TINY_PARAMS.read_text()))
    config = params.attribution
    empty = np.zeros(images.shape[:3], np.uint8)
    sample = Sample(images, images, empty, empty, labels, ids, ids, image_seeds(config.seed, ids))
    explanation = explain_model(model, model.name, "probe", "small_cnn", sample, config)
    maps = np.stack([explanation.attributions.maps[m] for m in config.methods])
    explained = ExplainedModel(model, explanation.target_layer)
    pic = compute_pic(
        images,
        maps if pic_maps is None else pic_maps,
        labels,
        explanation.classes,
        explained.probabilities,
        pic_settings(params),
        random_masks(ids, images.shape[1:3], params),
    )
    return {
        "backend": np.array(keras.backend.backend()),
        "logits": explained.logits(images),
        "maps": maps,
        "methods": np.array(config.methods),
        "aic": pic.auc["aic"],
        "sic": pic.auc["sic"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model")
    parser.add_argument("inputs")
    parser.add_argument("out")
    parser.add_argument("--resave")
    parser.add_argument("--pic-maps")
    args = parser.parse_args()
    model = load(args.model)
    pic_maps = None
    if args.pic_maps:
        with np.load(args.pic_maps, allow_pickle=False) as other:
            pic_maps = other["maps"]
    with np.load(args.inputs, allow_pickle=False) as inputs:
        result = probe(model, inputs["images"], inputs["labels"], inputs["ids"], pic_maps)
    np.savez(args.out, **result)
    if args.resave:
        model.save(args.resave)


if __name__ == "__main__":
    main()
