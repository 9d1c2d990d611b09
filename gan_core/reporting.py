"""The run's one stats channel: every optimizer step's metrics go to metrics.jsonl (and TensorBoard
when asked) and out to the callbacks as a `step` event."""
from __future__ import annotations

import json

import torch

from gan_core.events import emit
from gan_core.runs import Run


class StatsWriter:
    def __init__(self, run: Run, callbacks=None, tensorboard: bool = False, start_step: int = 0):
        self.run, self.callbacks = run, callbacks
        self.tb = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter
            # A resumed run drops the events a killed process wrote after its last checkpoint.
            self.tb = SummaryWriter(log_dir=str(run.path / "tensorboard"),
                                    purge_step=start_step + 1 if start_step else None)
        self._file = None

    def write_quality(self, row: dict) -> None:
        if self.tb:
            for name in ("fid", "kid_mean", "diversity", "input_distance"):
                if row.get(name) is not None:
                    self.tb.add_scalar(f"quality/{name}", row[name], row["step"])

    def write_step(self, row: dict, total_steps: int) -> None:
        if self._file is None:
            self._file = open(self.run.metrics_path, "a")
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        if self.tb:
            for name, value in row.items():
                if name not in ("step", "epoch", "time"):
                    self.tb.add_scalar(name, value, row["step"])
        emit(self.callbacks, "step", step=row["step"], epoch=row["epoch"], total_steps=total_steps, metrics=row)

    def write_images(self, tag: str, grid: torch.Tensor, step: int) -> None:
        """grid: a [C, H, W] image in [0, 1]."""
        if self.tb:
            self.tb.add_image(tag, grid, step)

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None
        if self.tb:
            self.tb.flush()
            self.tb.close()
