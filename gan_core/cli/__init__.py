"""`python -m gan_core <command>`: one module per command, each exposing `register(subparsers)`.

A command's handler returns the process exit code. Errors a user can fix (a bad path or value, a
damaged file, an unwritable output) never show as a traceback: main() prints them as one line
naming the file or value and what to do, and exits with code 2 (see user_error_message).
`--debug`, before or after the command, re-raises them to show the traceback instead.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import sys
import zipfile

from gan_core.events import CancelledError

COMMANDS = ["train", "sample", "inspect", "runs", "evaluate", "export", "translate", "compare", "sweep"]
DEBUG_HELP = "show the Python traceback of an error instead of its one-line message"

# What an OSError means and what to do about it, by errno (the message names the file first).
_OS_MEANING = {
    errno.ENOENT: "does not exist: check the path, or create its folder first",
    errno.EACCES: "permission denied: check its permissions, or choose another path",
    errno.EPERM: "operation not permitted: check its permissions, or choose another path",
    errno.EROFS: "is on a read-only file system: choose another path",
    errno.EISDIR: "is a folder: give a file path",
    errno.ENOTDIR: "part of that path is a file, not a folder: choose another path",
    errno.EEXIST: "is a file where a folder is needed: choose another path",
    errno.ENOSPC: "no space left on the disk: free some space, or choose another disk",
    errno.EDQUOT: "the disk quota is used up: free some space, or choose another disk",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_core", description="Monet GAN Studio engine")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"gan_core.cli.{name}").register(sub)
    for command in sub.choices.values():
        # SUPPRESS: a subcommand that was not given --debug leaves the top-level value alone.
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return parser


def is_user_error(error: BaseException) -> bool:
    """Errors about the user's input, files or disk (printed in one line), as opposed to bugs
    (which keep their traceback). The project's own errors are ValueErrors or OSErrors:
    DatasetError's kinds, ArchiveError, damaged checkpoints, runs and configs."""
    from gan_core.data.errors import DatasetError

    return isinstance(error, (ValueError, OSError, DatasetError, zipfile.BadZipFile))


def one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def user_error_message(error: BaseException) -> str:
    """One line naming the file or value and what to do."""
    if isinstance(error, OSError) and error.strerror and error.filename is not None and len(error.args) >= 2:
        # A bare OSError from open(), mkdir() or a rename: "[Errno 13] Permission denied: 'x'" says
        # neither what was being done nor what to do about it.
        meaning = _OS_MEANING.get(error.errno, f"{error.strerror.lower()}: check the path and try again")
        return one_line(f"{error.filename}: {meaning}")
    return one_line(error) or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except CancelledError as e:  # a long job stopped by Ctrl-C or SIGTERM (see common.cli_job)
        print(f"stopped: {e}", file=sys.stderr)
        return 130
    except Exception as e:
        if args.debug or not is_user_error(e):
            raise
        print(f"error: {user_error_message(e)}", file=sys.stderr)
        return 2
