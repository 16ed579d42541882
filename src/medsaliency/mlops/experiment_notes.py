"""The description of each MLflow experiment (the UI's note, tag ``mlflow.note.content``): what its runs
are and how to compare them. Experiments are ``<dataset>/<purpose>`` (and ``report``). The report stage,
which runs after every other, writes them (:func:`describe_experiments`), so that editing a note re-runs
only the report and no stage that trains."""

from __future__ import annotations

NOTE_TAG = "mlflow.note.content"

NOTES = {
    "tuning": (
        "**Tuning.** One parent run per Optuna study (`<dataset>-<backbone>`, tag `role = study`) with one nested run "
        "per trial: its hyperparameters as params, `loss`/`val_macro_f1` per epoch, its state in `optuna.state`. The "
        "parent holds the best trial's params (`best.*`), its held-out test scores (`test_*`) and the best model, which "
        "the register stage puts in the Model Registry.\n\n"
        "Compare trials: expand a study's run, select the trials, **Compare** (parallel coordinates of the "
        "hyperparameters against `val_macro_f1`)."
    ),
    "explain": (
        "**Saliency methods compared.** One run per explained model (`<model> v<version>`, tag `role = explanation`) "
        "with one nested run per saliency method (tag `role = method`, param `method`). A method run holds that "
        "method's measures in sections: `pic/` (SIC and AIC AUCs with their 95% bootstrap intervals and the test "
        "against Random), `removal/` (insertion, deletion), `road/`, `localisation/`, `shortcut/`, `complexity/`, "
        "`sanity/` (randomisation SSIMs; `sanity/cascading_ssim` per randomised block as steps) and "
        "`cost/seconds_per_image`. The model's run holds what belongs to the model: `classification/`, `images/` "
        "(counts, PIC exclusions), `cost/`, the heatmap grids, the curves and the per-image scores "
        "(`evaluation/per_image.parquet`).\n\n"
        "Compare the methods: in the runs table expand the model's run (the `+` before its name), choose **Show all "
        "runs** under the eye icon of the table's header, open the **Chart** view: each measure is one chart with a bar "
        "per method (section `pic`: `pic/sic_auc`, `pic/aic_auc`). **Group by** `method` over several models (the clean "
        "and the shortcut model, or seed replicates) shows each method's mean and range."
    ),
    "data_randomization": (
        "**Data randomisation test** (Adebayo et al. 2018). One run per champion: the same backbone and hyperparameters "
        "trained on shuffled labels, with the SSIM and Spearman correlation between its maps and the champion's "
        "(`ssim.<method>`, `spearman.<method>`): a method whose maps barely change does not depend on what the model "
        "learnt."
    ),
    "replicates": (
        "**Replicates.** One run per model of a champion's configuration trained again with another seed (param "
        "`seed`, the champion's hyperparameters as `hp.*`): its held-out test scores (`test_*`) and every per-image "
        "measure's mean per method (`sic_auc.<method>`, `insertion_auc.<method>`, ...). Its model is registered as "
        "`<model>.replicate`, tagged `never_promote`.\n\n"
        "Compare: select the runs, **Chart** view, a metric such as `sic_auc.gradcam`: one bar per seed shows how far a "
        "method's score moves between equally good models; `test_macro_f1` shows they are equally good. The statistics "
        "over the models (which method orders hold) are in the report."
    ),
    "report": ("**Report.** One run per `report` stage: `report.md` and `report.html`, every dataset's tables and figures, as artifacts."),
}


def note(experiment: str) -> str | None:
    """The note of experiment ``<dataset>/<purpose>`` or ``report`` (None for an unknown purpose)."""
    return NOTES.get(experiment.rsplit("/", 1)[-1])


def describe_experiments() -> list[str]:
    """Write :data:`NOTES` into every experiment of the current MLflow store that has one; their names."""
    import mlflow

    client = mlflow.MlflowClient()
    described = []
    for experiment in client.search_experiments():
        text = note(experiment.name)
        if text is None:
            continue
        if experiment.tags.get(NOTE_TAG) != text:
            client.set_experiment_tag(experiment.experiment_id, NOTE_TAG, text)
        described.append(experiment.name)
    return described
