"""Sample grids of a run: their steps, and their evolution as an animated GIF built on demand."""
from __future__ import annotations

from pathlib import Path

from gan_core import evolution
from gan_core.runs import Run


def step_number(path: Path) -> int:
    """step_000500.png (a sample grid) or step_000500.pt (a checkpoint) -> 500."""
    return int(path.stem.rsplit("_", 1)[-1])


def evolution_gif(run: Run) -> bytes:
    """<run>/evolution.gif, rebuilt only when a newer sample grid exists."""
    gif = run.path / "evolution.gif"
    newest = max(p.stat().st_mtime for p in run.samples())
    if not gif.exists() or gif.stat().st_mtime < newest:
        evolution.evolution_gif(run, gif)
    return gif.read_bytes()
