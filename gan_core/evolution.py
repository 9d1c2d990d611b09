"""An animated GIF of a run's fixed-noise sample grids: training watched frame by frame."""
from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageDraw

from gan_core import atomic
from gan_core.runs import Run

CAPTION_HEIGHT = 14


def pick_frames(paths: list[Path], max_frames: int) -> list[Path]:
    """At most max_frames paths spread evenly over the list, always keeping the first and last."""
    if max_frames < 2:
        raise ValueError(f"max_frames={max_frames}: a GIF needs at least 2 frames")
    if len(paths) <= max_frames:
        return list(paths)
    last = len(paths) - 1
    return [paths[round(i * last / (max_frames - 1))] for i in range(max_frames)]


def captioned(path: Path) -> Image.Image:
    """The grid with its step number in a black bar above it."""
    with Image.open(path) as grid:
        grid = grid.convert("RGB")
    frame = Image.new("RGB", (grid.width, grid.height + CAPTION_HEIGHT))
    frame.paste(grid, (0, CAPTION_HEIGHT))
    step = int(path.stem.rsplit("_", 1)[-1])
    ImageDraw.Draw(frame).text((3, 1), f"step {step}", fill=(255, 255, 255))
    return frame


def evolution_gif(run: Run | str | os.PathLike, out_path: str | os.PathLike | None = None, fps: float = 4,
                  max_frames: int = 100) -> Path:
    """Writes the run's sample grids (samples/step_*.png, oldest first) as a looping GIF, by default
    <run>/evolution.gif; the last frame is held for a second. Raises ValueError when the run has no grid."""
    run = run if isinstance(run, Run) else Run(Path(run))
    if fps <= 0:
        raise ValueError(f"fps={fps}: must be positive")
    paths = run.samples()
    if not paths:
        raise ValueError(f"run {run.path} has no sample grids yet in {run.samples_dir}")
    frames = [captioned(p) for p in pick_frames(paths, max_frames)]
    frame_ms = round(1000 / fps)
    durations = [frame_ms] * (len(frames) - 1) + [max(frame_ms, 1000)]
    out = Path(out_path) if out_path else run.path / "evolution.gif"
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: the studio may be reading it.
    return atomic.save_image(frames[0], out, format="GIF", save_all=True, append_images=frames[1:],
                             duration=durations, loop=0)
