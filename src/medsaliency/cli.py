"""``medsaliency`` command line: one sub-command per job. Heavy imports happen inside each command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from medsaliency.errors import MedsaliencyError

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medsaliency", description=__doc__)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file (default: params.yaml)")
    parser.add_argument("--root", type=Path, default=Path("."), help="project root that relative paths start from")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("phantoms", help="write the synthetic default datasets into their raw_dir folders")
    ingest = commands.add_parser("ingest", help="safely unpack published zip archive(s) into a data folder")
    ingest.add_argument("archives", nargs="+", type=Path)
    ingest.add_argument("--dest", type=Path, required=True, help="target folder, e.g. data/brain_tumor")
    ingest.add_argument("--no-nested", action="store_true", help="leave zips found inside the archive packed")
    for stage in ("prepare", "validate"):
        commands.add_parser(stage, help=f"run the {stage} stage for one dataset").add_argument("dataset")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except MedsaliencyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "phantoms":
        from medsaliency.config import load_params
        from medsaliency.data.phantoms.writer import write_phantom_datasets

        for folder in write_phantom_datasets(load_params(args.params), args.root):
            print(f"wrote phantoms to {folder}")
        return 0
    if args.command == "ingest":
        from medsaliency.data.archive import extract_archive

        for archive in args.archives:
            files = extract_archive(archive, args.dest, nested=not args.no_nested)
            print(f"{archive}: {len(files)} file(s) extracted into {args.dest}")
        return 0
    if args.command == "prepare":
        from medsaliency.stages import prepare

        return prepare.run(args.dataset, args.params, args.root)
    from medsaliency.stages import validate

    return validate.run(args.dataset, args.params, args.root)


if __name__ == "__main__":
    sys.exit(main())
