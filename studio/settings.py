"""What the studio remembers across restarts: the dataset in use and the recently used ones, in
`<runs root>/studio-settings.json` (beside the runs, so each runs root has its own; the runs root
is gan_core.runs.runs_root(): $GAN_STUDIO_RUNS, else runs/).

Read whenever a page asks for the dataset, written atomically (gan_core.atomic) on each choice. A
damaged file (torn, edited, not an object) is ignored, with the one-line reason in
Settings.problem for the page to show, and rewritten whole on the next choice. No Streamlit here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gan_core import atomic
from gan_core.runs import read_json_object, runs_root

SETTINGS_NAME = "studio-settings.json"
MAX_RECENT = 8
VERSION = 1


@dataclass
class Settings:
    dataset: str | None = None                       # the last dataset chosen
    recent: list[str] = field(default_factory=list)  # newest first, the chosen one included
    problem: str | None = None                       # why the file was ignored (one line), if it was


def settings_path() -> Path:
    return runs_root() / SETTINGS_NAME


def _damage(values: dict) -> str | None:
    dataset, recent = values.get("dataset"), values.get("recent", [])
    if dataset is not None and not isinstance(dataset, str):
        return "'dataset' is not a path"
    if not isinstance(recent, list) or not all(isinstance(p, str) for p in recent):
        return "'recent' is not a list of paths"
    return None


def load() -> Settings:
    """The saved settings; empty ones when there is no file yet or it is damaged (then `problem`
    says so, in one line)."""
    path = settings_path()
    if not os.path.lexists(path):
        return Settings()
    values, problem = read_json_object(path)
    if problem is None:
        wrong = _damage(values)
        problem = f"{path.name} is damaged ({wrong})" if wrong else None
    if problem is not None:
        reason = " ".join(problem.split())  # one line, whatever the decoder said
        return Settings(problem=f"Ignoring the studio's settings {path}: {reason}. It is rewritten when you next "
                                f"choose a dataset.")
    return Settings(dataset=values.get("dataset") or None, recent=[p for p in values.get("recent", []) if p])


def save(settings: Settings) -> Path:
    """Write the settings whole (atomically, creating the runs root if needed). Raises OSError."""
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic.write_json(path, {"version": VERSION, "dataset": settings.dataset,
                                    "recent": settings.recent[:MAX_RECENT]})


def remember_dataset(dataset: str) -> Settings:
    """Make `dataset` the one in use and the most recent; a damaged file is replaced. Raises OSError
    when the file cannot be written (the runs root is read-only, full, or a file)."""
    previous = load()
    recent = [dataset] + [p for p in previous.recent if p != dataset]
    settings = Settings(dataset=dataset, recent=recent[:MAX_RECENT])
    save(settings)
    return settings
