"""`python -m gan_core <command>`: one module per command, each exposing `register(subparsers)`.

A command's handler returns the process exit code. Errors a user can fix (bad paths, bad
values) are raised as ValueError / FileNotFoundError and printed as one line, exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from gan_core.events import CancelledError

COMMANDS = ["train", "sample", "inspect", "runs", "evaluate", "export", "translate", "compare", "sweep"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_core", description="Monet GAN Studio engine")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"gan_core.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, NotADirectoryError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except CancelledError as e:  # a long job stopped by Ctrl-C or SIGTERM (see common.cli_job)
        print(f"stopped: {e}", file=sys.stderr)
        return 130
