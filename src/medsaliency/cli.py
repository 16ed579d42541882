"""``medsaliency`` command line: one sub-command per job. Heavy imports happen inside each command."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from medsaliency.errors import MedsaliencyError

EXIT_BAD_INPUT = 2
# NumPy chooses its SIMD kernels by CPU when it is imported, and its AVX-512 kernels round some
# exp/sin/... results in the last bit differently from its AVX2 ones (AVX2 and SSE3 kernels already
# moved one pixel of one of the 902 phantom files here). Capped at AVX2 for `phantoms`, the default
# data is the same bytes on every x86-64 CPU with AVX2, the md5 that data.dvc records.
# The stages that run a Keras model: the params' keras_backend is selected before Keras is imported.
KERAS_STAGES = ("tune", "register", "attribute", "evaluate", "data_randomization", "replicates")
NUMPY_WITHOUT_AVX512 = "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medsaliency", description=__doc__)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file (default: params.yaml)")
    parser.add_argument("--root", type=Path, default=Path("."), help="project root that relative paths start from")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("phantoms", help="write the synthetic default datasets into their raw_dir folders").set_defaults(handler=_phantoms)
    ingest = commands.add_parser("ingest", help="safely unpack published zip archive(s) into a data folder")
    ingest.add_argument("archives", nargs="+", type=Path)
    ingest.add_argument("--dest", type=Path, required=True, help="target folder, e.g. data/brain_tumor")
    ingest.add_argument("--no-nested", action="store_true", help="leave zips found inside the archive packed")
    ingest.set_defaults(handler=_ingest)
    for stage in ("prepare", "validate", "register", "attribute", "evaluate", "data_randomization", "replicates"):
        dataset_stage = commands.add_parser(stage, help=f"run the {stage} stage for one dataset")
        dataset_stage.add_argument("dataset")
        dataset_stage.set_defaults(handler=_stage)
    tune = commands.add_parser("tune", help="run the tune stage (an Optuna study) for one dataset and backbone")
    tune.add_argument("dataset")
    tune.add_argument("backbone")
    tune.add_argument("--worker", action="store_true", help="only run trials (join a shared study); do not log the best model")
    tune.set_defaults(handler=_tune)
    report = commands.add_parser("report", help="write the cross-dataset summary (outputs/report) and log it to MLflow")
    report.set_defaults(handler=_report)
    comparison = commands.add_parser(
        "shortcut-comparison", help="the clean and the shortcut experiment's explanations side by side, from MLflow"
    )
    comparison.set_defaults(handler=_shortcut_comparison)
    retrain = commands.add_parser("retrain", help="dvc pull, dvc repro (with the promotion gate), dvc push, and a Markdown summary")
    retrain.add_argument("--remote", required=True, help="the DVC remote's name (dvc remote list)")
    retrain.add_argument("--summary", type=Path, default=None, help="append the summary to this file too (e.g. $GITHUB_STEP_SUMMARY)")
    retrain.set_defaults(handler=_retrain)
    profile = commands.add_parser("apply-profile", help="merge a profile overlay (profiles/paper.yaml) into the params file")
    profile.add_argument("profile", type=Path)
    profile.add_argument("--output", type=Path, default=None, help="write the merged params here (default: the --params file)")
    profile.set_defaults(handler=_apply_profile)
    backend = commands.add_parser("set-backend", help="set keras_backend in the params file (tensorflow or jax)")
    backend.add_argument("backend")
    backend.set_defaults(handler=_set_backend)
    commands.add_parser("methods", help="list the saliency methods, their option sections and defaults").set_defaults(handler=_methods)
    registry = commands.add_parser("registry", help="move the champion alias by hand")
    moves = registry.add_subparsers(dest="action", required=True)
    promote = moves.add_parser("promote", help="point an alias at a version")
    promote.add_argument("name", help="registered model, e.g. brain_tumor.small_cnn")
    promote.add_argument("version")
    promote.add_argument("--alias", default="champion")
    promote.set_defaults(handler=_registry)
    rollback = moves.add_parser("rollback", help="give champion back to the previous version")
    rollback.add_argument("name")
    rollback.set_defaults(handler=_registry)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "phantoms" and "numpy" not in sys.modules:
        os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", NUMPY_WITHOUT_AVX512)
    try:
        return args.handler(args)
    except MedsaliencyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _phantoms(args: argparse.Namespace) -> int:
    from medsaliency.config import load_params
    from medsaliency.data.formats import write_phantom_datasets

    for folder in write_phantom_datasets(load_params(args.params), args.root):
        print(f"wrote phantoms to {folder}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from medsaliency.data.archive import extract_archive

    for archive in args.archives:
        files = extract_archive(archive, args.dest, nested=not args.no_nested)
        print(f"{archive}: {len(files)} file(s) extracted into {args.dest}")
    return 0


def _apply_profile(args: argparse.Namespace) -> int:
    from medsaliency.profiles import apply_profile

    apply_profile(args.params, args.profile, args.output)
    print(f"merged {args.profile} into {args.output or args.params}")
    return 0


def _set_backend(args: argparse.Namespace) -> int:
    from medsaliency.profiles import set_keras_backend

    set_keras_backend(args.params, args.backend)
    print(f"{args.params}: keras_backend: {args.backend}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from medsaliency.stages import report

    return report.run(args.params, args.root)


def _tune(args: argparse.Namespace) -> int:
    _select_backend(args)
    from medsaliency.stages import tune

    return tune.run(args.dataset, args.backbone, args.params, args.root, finalize=not args.worker)


def _stage(args: argparse.Namespace) -> int:
    """A per-dataset stage. Only this stage's module is imported: a DVC stage is a process of its own,
    and the others' imports cost seconds (validate's Great Expectations alone ~2 s)."""
    _select_backend(args)
    stage = importlib.import_module(f"medsaliency.stages.{args.command}")
    return stage.run(args.dataset, args.params, args.root)


def _select_backend(args: argparse.Namespace) -> None:
    """For the stages that run a Keras model: the params' ``keras_backend``, selected before Keras is imported."""
    if args.command in KERAS_STAGES:
        from medsaliency.backends import select
        from medsaliency.config import load_params

        select(load_params(args.params).keras_backend, str(args.params))


def _registry(args: argparse.Namespace) -> int:
    from medsaliency.config import load_params
    from medsaliency.mlops.registry import ModelRegistry
    from medsaliency.mlops.tracking import configure_mlflow

    configure_mlflow(load_params(args.params).mlflow, args.root)
    registry = ModelRegistry()
    change = registry.move_alias(args.name, args.alias, args.version) if args.action == "promote" else registry.rollback_champion(args.name)
    print(change)
    return 0


def _methods(args: argparse.Namespace) -> int:
    from medsaliency.attribution.methods import METHODS, OPTIONS

    for name, spec in METHODS.items():
        sections = "; ".join(f"{section}: {OPTIONS[section]().model_dump()}" for section in spec.options)
        print(f"{name:<22}{spec.label:<22}{sections or '(no options)'}")
    return 0


def _retrain(args: argparse.Namespace) -> int:
    from medsaliency.mlops.retrain import retrain

    summary = retrain(args.remote, args.params, args.root)
    print(summary)
    if args.summary is not None:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        with args.summary.open("a") as handle:
            handle.write(summary + "\n")
    return 0


def _shortcut_comparison(args: argparse.Namespace) -> int:
    from medsaliency.attribution.methods import LABELS
    from medsaliency.config import load_params
    from medsaliency.io.paths import shortcut_comparison_file
    from medsaliency.mlops.tracking import configure_mlflow
    from medsaliency.reporting.results_page import write_shortcut_page
    from medsaliency.reporting.shortcut_comparison import comparison_markdown, latest_explanation_runs

    params = load_params(args.params)
    configure_mlflow(params.mlflow, args.root)
    intro = (
        "# The planted shortcut: which saliency methods expose it\n\n"
        "Per method, mean over the test images: the share of positive saliency on the class-coded marker region, and the "
        f"share of the marker's pixels among the map's {params.evaluation.top_fraction:.0%} most salient (confounder sensitivity).\n\n"
    )
    markdown = intro + "\n".join(comparison_markdown(name, latest_explanation_runs(name), LABELS) for name in params.datasets)
    target = args.root / shortcut_comparison_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(markdown)
    page = write_shortcut_page(markdown, args.root)
    print(markdown)
    print(f"wrote {target} and {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
