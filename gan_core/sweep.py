"""Batch-size x learning-rate sweeps of the noise GANs (MLP, DCGAN): every combination is trained
as an ordinary run, then summarised in one table.

<runs dir>/<sweep id>/sweep.json            the plan: grid, base settings, KID sample count, run ids
<runs dir>/<sweep id>/sweep.csv             one row per ended combination (columns: gan_core.runs.COLUMNS)
<runs dir>/<sweep id>-bs32-lr0.0002/ ...    each combination's run, like any other run

The learning rate is used for both G and D. Started again with the same plan, a killed or stopped
sweep skips the combinations it has rows for and resumes an unfinished run from its checkpoint.
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import pandas as pd
import torch

from gan_core import atomic
from gan_core.config import NOISE_MODELS, RESUME_MUTABLE, TrainConfig
from gan_core.device import select_device
from gan_core.events import CancelledError, Control, emit
from gan_core.models import load_model
from gan_core.models.base import seeded_generator, to_uint8
from gan_core.runs import (COLUMNS, SUMMARISED, Run, load_sweep, plan_problem, read_json_object, runs_root,
                           write_json_atomic)
from gan_core.trainer import load_training_images, train

DEFAULT_KID_SAMPLES = 500
SWEPT = ("batch_size", "lr_g", "lr_d", "run_id")
# Settings a resumed sweep may change; epochs and steps may not, or its rows would not compare.
PLAN_MUTABLE = (RESUME_MUTABLE - {"epochs", "steps"}) | set(SWEPT)


#: the tag every run of a sweep carries, followed by the sweep id (Runs page: filter by it)
SWEEP_TAG = "sweep:"


def combination_run_id(sweep_id: str, batch_size: int, lr: float) -> str:
    return f"{sweep_id}-bs{batch_size}-lr{lr:g}"


def combinations(base_cfg: TrainConfig, batch_sizes, lrs, sweep_id: str) -> list[TrainConfig]:
    """Every (batch size, lr) as a run config, batch size major. Raises ValueError naming problems."""
    if base_cfg.model not in NOISE_MODELS:
        raise ValueError(f"sweeps cover the noise models ({', '.join(NOISE_MODELS)}), not {base_cfg.model}")
    if not batch_sizes or not lrs:
        raise ValueError("a sweep needs at least one batch size and one learning rate")
    configs = [dataclasses.replace(base_cfg, batch_size=int(b), lr_g=float(lr), lr_d=float(lr),
                                   run_id=combination_run_id(sweep_id, b, lr))
               for b in dict.fromkeys(batch_sizes) for lr in dict.fromkeys(lrs)]
    problems = sorted({p for cfg in configs for p in cfg.validate()})
    if problems:
        raise ValueError("invalid sweep settings: " + "; ".join(problems))
    return configs


def read_plan(folder: str | Path) -> dict:
    """sweep.json. ValueError naming it when it is missing, damaged or incomplete."""
    folder = Path(folder)
    problem = plan_problem(folder)
    if problem:
        raise ValueError(f"sweep {folder} cannot be used: {problem}. Its runs are intact; restore sweep.json, "
                         f"or start a new sweep (another sweep id)")
    return read_json_object(folder / "sweep.json")[0]


def plan_sweep(base_cfg: TrainConfig, batch_sizes, lrs, sweep_id: str,
               kid_samples: int = DEFAULT_KID_SAMPLES) -> tuple[Path, list[TrainConfig]]:
    """The sweep's folder and run configs, its sweep.json written (a new sweep) or checked against
    (one started before). Raises ValueError naming what is wrong."""
    if kid_samples < 2:
        raise ValueError(f"kid_samples must be at least 2, got {kid_samples}")
    configs = combinations(base_cfg, batch_sizes, lrs, sweep_id)
    folder = runs_root(base_cfg.runs_dir) / sweep_id
    plan = {"sweep_id": sweep_id, "batch_sizes": list(dict.fromkeys(batch_sizes)), "lrs": list(dict.fromkeys(lrs)),
            "kid_samples": kid_samples, "runs": [c.run_id for c in configs],
            "base_config": {k: v for k, v in base_cfg.to_dict().items() if k not in SWEPT}}
    _check_plan(folder, plan, configs)
    return folder, configs


def _check_plan(folder: Path, plan: dict, configs: list[TrainConfig]) -> None:
    """A new sweep must not reuse runs; a resumed one must keep its plan."""
    if not (folder / "sweep.json").exists():
        if (folder / "config.json").exists():
            raise ValueError(f"{folder} is a run, not a sweep: choose another --sweep-id")
        taken = [c.run_id for c in configs if (folder.parent / c.run_id / "config.json").exists()]
        if taken:
            raise ValueError(f"run(s) {', '.join(taken)} already exist: choose another --sweep-id")
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / "sweep.json", {**plan, "created": time.time()})
        return
    old = read_plan(folder)
    changed = [k for k in ("batch_sizes", "lrs", "kid_samples") if old.get(k) != plan[k]]
    changed += [k for k, v in plan["base_config"].items()
                if k not in PLAN_MUTABLE and old["base_config"].get(k, v) != v]
    if changed:
        raise ValueError(f"sweep {folder.name} exists with other settings ({', '.join(changed)}): resume it "
                         f"with its own settings, or choose another --sweep-id")


def summarise(run: Run) -> dict:
    """Final and mean losses and D outputs, and the median images/s (the first steps warm up)."""
    frame = pd.DataFrame(run.metrics())
    row = {"run": run.id, "state": run.status().get("state"), "steps": int(frame["step"].max()) if len(frame) else 0}
    for name in SUMMARISED:
        values = frame[name] if name in frame else pd.Series(dtype=float)
        row[f"{name}_final"] = values.iloc[-1] if len(values) else math.nan
        row[f"{name}_mean"] = values.mean()
    row["images_per_s"] = frame["images_per_s"].median() if "images_per_s" in frame else math.nan
    return row


class MonetKID:
    """KID between n images of a trained generator and n of the training set's Monet paintings
    (all of them when there are fewer), both at the training resolution, which Inception then
    resizes alike. The paintings' features are computed once, for every combination."""

    def __init__(self, cfg: TrainConfig, n: int, callbacks=None, control: Control | None = None):
        # Here, not at the top: torch-fidelity imports torchvision (seconds), and the Sweep page imports this module.
        from gan_core.metrics.inception import load_extractor, resolve_weights

        self.n, self.callbacks, self.control = n, callbacks, control
        self.device = select_device(cfg.device)
        self.extractor = load_extractor(resolve_weights(), self.device)
        monet = load_training_images(cfg).select("monet").images
        pick = torch.randperm(len(monet), generator=seeded_generator(cfg.seed, 19))[:n].sort().values
        self.reference = self._features(list(monet[pick]), "Monet paintings")
        self.z = torch.randn(n, cfg.latent_dim, generator=seeded_generator(cfg.seed, 17))

    def _features(self, images: list[torch.Tensor], source: str) -> torch.Tensor:
        from gan_core.metrics.inception import POOL, extract

        images = [im.expand(3, -1, -1) for im in images]  # grey (MNIST) as RGB
        size = 32 if self.device.type == "cuda" else 8
        batches = (images[i:i + size] for i in range(0, len(images), size))
        return extract(batches, len(images), self.extractor, self.callbacks, self.control, source)[POOL]

    def __call__(self, run: Run) -> dict:
        from gan_core.metrics.fid import kernel_inception_distance

        model, _ = load_model(run.path, device=self.device)
        fakes = torch.cat([model.generate(z) for z in self.z.split(64)]).cpu()
        images = to_uint8(fakes)
        mean, std = kernel_inception_distance(self._features(list(images), "generated"), self.reference)
        return {"kid_mean": mean, "kid_std": std, "kid_samples": self.n,
                "kid_reference_images": len(self.reference)}


def _write_table(folder: Path, rows: dict[str, dict], order: list[str]) -> None:
    table = pd.DataFrame([rows[r] for r in order if r in rows], columns=COLUMNS)
    with atomic.atomic_open(folder / "sweep.csv", "w", newline="") as f:
        table.to_csv(f, index=False)


def run_sweep(base_cfg: TrainConfig, batch_sizes, lrs, sweep_id: str, kid_samples: int = DEFAULT_KID_SAMPLES,
              callbacks=None, control: Control | None = None) -> Path:
    """Train every combination one after another (or continue the sweep); returns its folder.
    Emits a "log" event per combination and the runs' own events; Control.stop stops the current
    run cleanly (resumable) and ends the sweep."""
    control = control or Control()
    folder, configs = plan_sweep(base_cfg, batch_sizes, lrs, sweep_id, kid_samples)
    rows = {r["run"]: r for r in load_sweep(folder).to_dict("records") if isinstance(r.get("run"), str)}
    kid = None
    try:
        for i, cfg in enumerate(configs, 1):
            run = Run(folder.parent / cfg.run_id)
            label = f"[{i}/{len(configs)}] {cfg.run_id}"
            if rows.get(run.id, {}).get("state") == run.status().get("state"):
                emit(callbacks, "log", message=f"{label}: done before, skipped")
                continue
            if control.should_stop():
                break
            if run.status().get("state") != "finished":
                emit(callbacks, "log", message=f"{label}: training (batch size {cfg.batch_size}, lr {cfg.lr_g:g})")
                run = train(cfg, callbacks, control, resume=(run.path / "config.json").exists())
            if SWEEP_TAG + sweep_id not in run.tags():
                run.set_tags(run.tags() + [SWEEP_TAG + sweep_id])
            row = {**summarise(run), "batch_size": cfg.batch_size, "lr": cfg.lr_g}
            if row["state"] == "stopped":
                break
            if row["state"] == "finished":
                kid = kid or MonetKID(base_cfg, kid_samples, callbacks, control)
                row.update(kid(run))
            rows[run.id] = row
            _write_table(folder, rows, [c.run_id for c in configs])
            score = f", KID {row['kid_mean']:.4f} on {kid_samples} samples" if "kid_mean" in row else ""
            emit(callbacks, "log", message=f"{label}: {row['state']}{score}")
    except CancelledError:  # stopped while computing KID: the run is finished, its row comes on resume
        pass
    done = sum(c.run_id in rows for c in configs)
    state = "finished" if done == len(configs) else "stopped"
    emit(callbacks, "end", state=state, run=str(folder),
         message=f"sweep {sweep_id}: {done} of {len(configs)} combinations done"
                 + ("" if state == "finished" else "; start it again to continue"))
    return folder


def resume_sweep(folder: str | Path, callbacks=None, control: Control | None = None) -> Path:
    """Continue a sweep with the plan it was started with."""
    folder = Path(folder)
    plan = read_plan(folder)
    cfg = TrainConfig.from_dict({**plan["base_config"], "runs_dir": str(folder.parent)})
    return run_sweep(cfg, plan["batch_sizes"], plan["lrs"], plan["sweep_id"], plan["kid_samples"], callbacks, control)
