"""The MLflow layout of an evaluation: every flat metric finds its run and its ``/`` section."""

import pytest

from medsaliency.mlops.model_card import EVALUATION, TEST_SCORES, evaluation_headline, with_section
from medsaliency.mlops.tracking_layout import MAX_METHOD_METRICS, METHOD_KEYS, UNLOGGED, Metric, split_metrics

METHODS = ["xrai_full", "random"]


def every_measure(method: str, steps: int = 4) -> dict[str, float]:
    """Every per-method measure the evaluation can write, for ``method``, as flat keys."""
    flat = {f"{name}.{method}": 0.5 for name in [*METHOD_KEYS, *UNLOGGED] if not (method == "random" and "p_vs_random" in name)}
    for step in range(1, steps + 1):
        for suffix in ("", "_ci_low", "_ci_high"):
            flat[f"cascading_ssim.{step:02d}_conv{step}{suffix}.{method}"] = 0.1 * step
    return flat


def test_a_full_evaluation_splits_into_method_runs_under_the_limit_and_model_level_metrics():
    metrics = {**every_measure("xrai_full"), **every_measure("random")}
    metrics |= {"n_images": 60.0, "excluded.sic.low_prediction": 3.0, "shortcut.accuracy_with_marker": 0.9}
    split = split_metrics(metrics, METHODS)
    xrai = {(m.key, m.step): m.value for m in split.by_method["xrai_full"]}
    keys = {key for key, _ in xrai}  # a history (the cascading steps) is one metric
    assert len(keys) + 1 <= MAX_METHOD_METRICS and all("/" in key for key in keys)  # + cost/seconds_per_image
    assert xrai[("pic/sic_auc", 0)] == 0.5 and xrai[("road/gap_p_vs_random", 0)] == 0.5
    assert [xrai[("sanity/cascading_ssim", step)] for step in (1, 2, 3, 4)] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert ("complexity/sparseness", 0) in xrai and not any("sparseness_ci" in key for key, _ in xrai)
    assert not any("p_vs_random" in m.key for m in split.by_method["random"])
    assert set(split.model) == {
        Metric("images/explained", 60.0),
        Metric("images/excluded_sic_low_prediction", 3.0),
        Metric("classification/accuracy_with_marker", 0.9),
    }


def test_a_measure_without_a_key_or_a_method_not_explained_is_named():
    with pytest.raises(KeyError, match="'faithfulness' has no MLflow key"):
        split_metrics({"faithfulness.random": 0.1}, METHODS)
    with pytest.raises(KeyError, match="'gradcam' is not an explained method"):
        split_metrics({"sic_auc.gradcam": 0.1}, METHODS)


def test_the_model_card_keeps_one_section_per_stage_and_names_the_best_method():
    metrics = {"n_images": 60.0, "sic_auc.xrai_full": 0.8, "sic_auc.random": 0.4, "sic_auc_ci_low.xrai_full": 0.7}
    metrics |= {"sic_auc_ci_high.xrai_full": 0.9, "deletion_auc.xrai_full": 0.3, "deletion_auc.random": 0.2}
    metrics |= {"excluded.sic.low_prediction": 2.0, "excluded.sic.entropy_not_lower": 0.0}
    headline = evaluation_headline(metrics, METHODS, {"xrai_full": "XRAI"}, "run1")
    assert "- highest SIC AUC on this model: **XRAI** 0.800 [0.700, 0.900]" in headline
    assert "- lowest deletion AUC on this model: **random** 0.200" in headline and "AIC AUC" not in headline
    assert "- SIC curves excluded of 60: low_prediction 2" in headline
    card = with_section(with_section(None, TEST_SCORES, "| macro_f1 | 0.9 |"), EVALUATION, headline)
    again = with_section(card, EVALUATION, "rerun")
    assert again == f"## {TEST_SCORES}\n| macro_f1 | 0.9 |\n\n## {EVALUATION}\nrerun\n"
