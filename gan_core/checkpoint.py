"""Checkpoints: one dict of state_dicts and plain values, written atomically, loaded safely.

Written to a temporary file in the same directory, flushed to disk, then renamed over the
target: a kill at any moment leaves either the old file or the new one, never half of one.
Loaded with weights_only=True, since users hand us checkpoint files.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch


def save_atomic(obj: dict, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load(path: str | os.PathLike, map_location="cpu") -> dict:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises several types for truncated or foreign files
        raise ValueError(f"checkpoint {path} could not be loaded ({type(e).__name__}: {e}); "
                         f"it may be truncated or not a gan_core checkpoint") from e
