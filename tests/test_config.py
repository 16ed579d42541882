import pytest
import yaml

from medsaliency.config import load_params, parse_params
from medsaliency.errors import ConfigError

from conftest import REPO


def test_repository_params_load_into_typed_config():
    params = load_params(REPO / "params.yaml")
    brain = params.dataset("brain_tumor")
    assert brain.format == "figshare_mat"
    assert brain.classes == ["meningioma", "glioma", "pituitary"]
    assert isinstance(brain.image_size, int)
    assert params.validate_.max_class_ratio >= 1


def test_unknown_key_is_named(tiny_raw):
    tiny_raw["datasets"]["brain_tumor"]["imagesize"] = 64
    with pytest.raises(ConfigError, match=r"datasets\.brain_tumor\.imagesize: unknown key"):
        parse_params(tiny_raw)


def test_missing_key_is_named(tiny_raw):
    del tiny_raw["split"]["seed"]
    with pytest.raises(ConfigError, match=r"split\.seed: missing key"):
        parse_params(tiny_raw)


def test_wrong_type_names_key_and_expectation(tiny_raw):
    tiny_raw["datasets"]["covid_xray"]["image_size"] = "big"
    with pytest.raises(ConfigError, match=r"datasets\.covid_xray\.image_size: Input should be a valid integer.*'big'"):
        parse_params(tiny_raw)


def test_out_of_range_value_is_named(tiny_raw):
    tiny_raw["split"]["test_fraction"] = 0.9
    with pytest.raises(ConfigError, match=r"split\.test_fraction"):
        parse_params(tiny_raw)


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("seed: 42\nsplit:\n  seed: [1, 2\n")
    with pytest.raises(ConfigError, match=r"(?s)params.yaml: not valid YAML.*line 3"):
        load_params(bad)


def test_top_level_must_be_a_mapping(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump([1, 2]))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_params(bad)


def test_unknown_dataset_lists_known_ones(tiny_params):
    with pytest.raises(ConfigError, match="brain_tumor, covid_xray"):
        tiny_params.dataset("mnist")


def test_params_are_immutable(tiny_params):
    with pytest.raises(Exception):
        tiny_params.split.seed = 1


def test_paper_profile_is_valid_and_holds_the_nine_backbones():
    params = load_params(REPO / "profiles" / "paper.yaml")
    assert set(params.tune.backbones) == {"vgg16", "vgg19", "resnet50", "resnet50v2", "densenet121", "xception", "inceptionv3", "inceptionresnetv2", "efficientnetb0"}
    assert {d.image_size for d in params.datasets.values()} == {225}
    assert params.train.mixed_precision and params.tune.paper_trial.momentum == 0.9395


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("attribution", "methods", ["gradcam", "lime"], r"attribution.methods.1: Input should be 'vanilla_gradient'"),
        ("attribution", "methods", ["gradcam", "gradcam"], r"attribution: Value error, methods must be unique"),
        ("attribution", "explain", "both", r"attribution.explain: Input should be 'predicted' or 'true'"),
        ("evaluation", "thresholds", [0.5, 0.1], r"evaluation: Value error, thresholds must be strictly ascending"),
        ("evaluation", "entropy", "png", r"evaluation.entropy: Input should be 'webp', 'shannon' or 'shannon_minmax'"),
    ],
)
def test_attribution_and_evaluation_keys_are_checked(tiny_raw, section, key, value, message):
    tiny_raw[section][key] = value
    with pytest.raises(ConfigError, match=message):
        parse_params(tiny_raw)
