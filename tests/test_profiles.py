"""Profiles are overlays: merged over params.yaml (comments kept), validated, holding only what differs."""

import pytest
import yaml
from conftest import REPO

from medsaliency.cli import main
from medsaliency.errors import ConfigError
from medsaliency.profiles import merge_overlay

PAPER_NINE = {"vgg16", "vgg19", "resnet50", "resnet50v2", "densenet121", "xception", "inceptionv3", "inceptionresnetv2", "efficientnetb0"}


def test_merge_rules_by_hand():
    base = {"a": {"x": 1, "y": [1, 2]}, "backbones": {"small": {"n": 1}, "big": {"n": 2}}, "k": 3, "per_class": 5}
    overlay = {"a": {"y": [3]}, "backbones": {"small": None, "huge": {"n": 9}}, "per_class": None}
    assert merge_overlay(base, overlay) == {
        "a": {"x": 1, "y": [3]},
        "backbones": {"big": {"n": 2}, "huge": {"n": 9}},
        "k": 3,
        "per_class": None,
    }
    with pytest.raises(ConfigError, match="an overlay is a mapping"):
        merge_overlay({}, [1])


def test_paper_profile_merges_into_valid_params_with_the_nine_backbones_and_keeps_comments(tmp_path):
    output = tmp_path / "params.yaml"
    assert (
        main(["--params", str(REPO / "params.yaml"), "apply-profile", str(REPO / "profiles" / "paper.yaml"), "--output", str(output)]) == 0
    )
    merged = yaml.safe_load(output.read_text())
    assert set(merged["tune"]["backbones"]) == PAPER_NINE and merged["datasets"]["brain_tumor"]["image_size"] == 225
    assert (
        merged["train"]["mixed_precision"] is True and merged["registry"]["top_k"] == 3 and merged["attribution"]["images_per_class"] == 34
    )
    assert merged["replicates"]["count"] == 9 and merged["replicates"]["seed"] == 1000  # ten models per configuration with the champion
    assert "# Every knob of the pipeline" in output.read_text()  # params.yaml's comments survive the merge
    shipped = yaml.safe_load((REPO / "params.yaml").read_text())
    changed = {"datasets", "phantoms", "train", "tune", "registry", "attribution", "evaluation", "replicates"}
    assert {k: v for k, v in merged.items() if k not in changed} == {k: v for k, v in shipped.items() if k not in changed}


def test_paper_profile_holds_only_what_differs_from_params_yaml():
    shipped = yaml.safe_load((REPO / "params.yaml").read_text())
    overlay = yaml.safe_load((REPO / "profiles" / "paper.yaml").read_text())

    def same_leaves(base, layer, prefix=""):
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                yield from same_leaves(base[key], value, f"{prefix}{key}.")
            elif key in base and base[key] == value:
                yield prefix + key

    assert list(same_leaves(shipped, overlay)) == []


def test_an_invalid_overlay_is_refused_naming_the_key_and_nothing_is_written(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "params.yaml").read_text())
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("train:\n  patiense: 3\n")
    assert main(["--params", str(params), "apply-profile", str(overlay)]) == 2
    assert params.read_text() == (REPO / "params.yaml").read_text()


def test_set_backend_changes_that_one_line_and_refuses_an_unknown_backend(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    shipped = (REPO / "params.yaml").read_text()
    params.write_text(shipped)
    assert main(["--params", str(params), "set-backend", "jax"]) == 0
    assert params.read_text() == shipped.replace("\nkeras_backend: tensorflow\n", "\nkeras_backend: jax\n")
    assert main(["--params", str(params), "set-backend", "torch"]) == 2
    assert "keras_backend: Input should be 'tensorflow' or 'jax'" in capsys.readouterr().err
    assert yaml.safe_load(params.read_text())["keras_backend"] == "jax"  # nothing written on error


@pytest.mark.parametrize("profile", [None, "paper.yaml"])
def test_the_default_training_adds_no_image_made_by_an_evaluation_perturbation(profile):
    """PIC's blur made into training images teaches the model the evaluation it is then scored by: with
    params.yaml, alone or under a profile, the training set is the real images, and turning outlier
    exposure on with its perturbation makes copies that hold exactly their image's pixels, reordered
    (no blur, no imputation: no measure's perturbation)."""
    import numpy as np

    from medsaliency.config import parse_params
    from medsaliency.models.featureless import featureless_images

    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    if profile:
        merge_overlay(raw, yaml.safe_load((REPO / "profiles" / profile).read_text()))
    config = parse_params(raw).train.featureless
    images = np.random.default_rng(0).random((4, 16, 16, 1), np.float32)
    assert featureless_images(images, config, seed=0).shape == (0, 16, 16, 1)
    copies = featureless_images(images, config.model_copy(update={"copies": 2}), seed=0)
    sources = np.concatenate([images] * 2)
    np.testing.assert_array_equal(np.sort(copies.reshape(len(copies), -1)), np.sort(sources.reshape(len(sources), -1)))
