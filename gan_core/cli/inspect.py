"""`python -m gan_core inspect PATH`: what a dataset holds (usable images per domain, skipped and
converted files). Exit code 0 when at least one image is usable, 2 otherwise."""
from __future__ import annotations

import argparse
import json

from gan_core.cli.common import TqdmProgress
from gan_core.data import inspect_dataset


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "inspect", help="Report a dataset's usable, skipped and converted images.",
        description="Decode every image of a dataset once (later runs reuse the cache) and report usable "
                    "images per domain, skipped files with reasons, and converted files.")
    parser.add_argument("path", help="Competition folder or zip, image folder, *.tfrec, or MNIST folder.")
    parser.add_argument("--json", action="store_true", help="Print the report as one JSON line.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = inspect_dataset(args.path, callbacks=[TqdmProgress()])
    print(json.dumps(report.to_dict()) if args.json else report.to_text())
    return 0 if report.total else 2
