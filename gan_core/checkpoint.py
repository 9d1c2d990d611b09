"""Checkpoints: one dict of state_dicts and plain values, written atomically, loaded safely.

Written through gan_core.atomic (a uniquely named temporary file in the same directory, flushed
to disk, then renamed over the target): a kill at any moment leaves either the old file or the
new one, never half of one.
Loaded with weights_only=True, since users hand us checkpoint files.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from gan_core import atomic


def save_atomic(obj: dict, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic.torch_save(obj, path)


# What every training checkpoint holds (trainer._write_checkpoint): loading a model, resuming and
# forking need them all.
TRAINING_KEYS = ("config", "channels", "state", "step")


def load(path: str | os.PathLike, map_location="cpu", require: tuple[str, ...] = ()) -> dict:
    """The checkpoint's dict. ValueError naming the file when it does not load, or (require: the
    keys it must hold, e.g. TRAINING_KEYS) is not that kind of checkpoint."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint {path} is a folder: give a .pt file, best or latest")
    try:
        value = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises several types for truncated or foreign files
        # torch's own messages run over several lines and sentences (the weights_only advice): the first says it.
        reason = next((line.strip() for line in str(e).splitlines() if line.strip()), "").split(". ")[0]
        raise ValueError(f"checkpoint {path} could not be loaded ({type(e).__name__}: {reason}); "
                         f"it may be truncated or not a gan_core checkpoint") from e
    missing = [key for key in require if not isinstance(value, dict) or key not in value]
    if missing or (require and "config" in require and not isinstance(value["config"], dict)):
        raise ValueError(f"checkpoint {path} is not a gan_core training checkpoint (it lacks "
                         f"{', '.join(missing) or 'a config'}): give one from a run's checkpoints/ folder")
    return value


def set_aside(path: str | os.PathLike) -> Path:
    """Rename a checkpoint that does not load to <name>.bad, so it is never taken as the latest
    again, nor counted by rotation (which would then delete good ones). Returns the new path."""
    path = Path(path)
    return atomic.commit(path, path.with_name(path.name + ".bad"), fsync=False)


def load_newest(paths, map_location="cpu", on_damaged=None,
                require: tuple[str, ...] = TRAINING_KEYS) -> tuple[Path, dict] | None:
    """The newest of `paths` (sorted oldest first) that loads, with its content; each damaged
    newer one is set aside and reported through on_damaged(message). None when none loads."""
    for path in reversed(list(paths)):
        try:
            return path, load(path, map_location=map_location, require=require)
        except ValueError as e:
            bad = set_aside(path)
            if on_damaged:
                on_damaged(f"{e}; renamed to {bad.name}")
    return None
