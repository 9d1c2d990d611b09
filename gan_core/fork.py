"""Forks: a new run started from a checkpoint of another, with changed settings.

`train --fork RUN[:CHECKPOINT] --run-id NEW [flags]`: RUN is a run directory or id, CHECKPOINT
best, latest or a file name in its checkpoints/ (default: best when the run has one, else latest).
The fork takes the parent's settings, then the flags given; it loads the checkpoint's weights, EMA
(a fork that turns EMA on starts its average from the loaded generator) and optimizer moments,
then applies its own learning rates, betas and schedule. It counts its own steps and epochs from
0 (so --steps/--epochs are the fork's length) and draws its batches from its own seed.
config.json records `fork_of`: the parent run, checkpoint and step. Settings that shape the
networks cannot change in a fork.
"""
from __future__ import annotations

import os
from pathlib import Path

from gan_core.config import RUN_RECORD
from gan_core.runs import CHECKPOINT_NAMES, Run, open_run

ARCHITECTURE = ("model", "image_size", "crop_size", "ngf", "ndf", "latent_dim", "mlp_hidden", "d_head", "n_blocks",
                "generator", "upsample", "nce_layers", "nce_dim")
# Settings of the parent that describe where it ran, not what it is: the fork gets its own.
NOT_INHERITED = ("run_id", "runs_dir", "fork") + RUN_RECORD


def parse_fork(spec: str) -> tuple[str, str | None]:
    """'RUN[:CHECKPOINT]' -> (RUN, CHECKPOINT or None); a colon that is part of a path stays in RUN."""
    run, sep, name = str(spec).rpartition(":")
    if sep and (name in CHECKPOINT_NAMES or name.endswith(".pt")):
        return run, name
    return str(spec), None


def fork_source(spec: str, runs_dir: str | os.PathLike | None = None) -> tuple[Run, Path]:
    """The parent run and the checkpoint file a fork starts from. Raises FileNotFoundError/ValueError."""
    if not spec:
        raise ValueError("fork needs RUN[:CHECKPOINT]")
    run_name, checkpoint = parse_fork(spec)
    run = open_run(run_name, runs_dir)
    if checkpoint is None:
        checkpoint = "best" if run.best_checkpoint() else "latest"
    return run, run.resolve_checkpoint(checkpoint)


def fork_values(spec: str, runs_dir: str | os.PathLike | None = None) -> dict:
    """The parent's settings a fork starts with (TrainConfig field values), plus `fork`."""
    run, _ = fork_source(spec, runs_dir)
    values = {k: v for k, v in run.config(strict=True).items() if k not in NOT_INHERITED}
    return {**values, "fork": spec}


def architecture_changes(parent: dict, cfg) -> list[str]:
    return [f"{k} (parent has {parent.get(k)!r}, fork {getattr(cfg, k)!r})" for k in ARCHITECTURE
            if k in parent and parent[k] != getattr(cfg, k)]


def check_fork(parent: dict, cfg, checkpoint: Path) -> None:
    changes = architecture_changes(parent, cfg)
    if changes:
        raise ValueError(f"cannot fork {checkpoint}: these settings shape the networks and must stay as they are: "
                         + "; ".join(changes) + ". Start a new run without --fork to change them.")
