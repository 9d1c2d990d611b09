"""Side-by-side comparison of noise GANs (the classic MLP GAN vs DCGAN on MNIST) for one budget.

Each model trains as an ordinary run, <report>-<model>, with the same data, budget and seed, and
a sample grid (and checkpoint) every epoch. The report folder then holds report.json / .csv / .md
(steps, training time, final and mean losses, KID against the real images), each epoch's grid
as <model>_epoch_XX.png and <model>_evolution.gif. Rerunning with the same `out` skips finished
runs and resumes the others from their last checkpoint.

KID uses Inception pool features of `kid_samples` generated images and as many real ones (a
seeded random subset of the training images); the real features are cached on disk.
"""
from __future__ import annotations

import csv
import hashlib
import math
import shutil
import time
from pathlib import Path

import torch

from gan_core import atomic, checkpoint
from gan_core.config import build_config, resume_config
from gan_core.data import load_images
from gan_core.device import select_device
from gan_core.events import CancelledError, Control, emit
from gan_core.evolution import evolution_gif
from gan_core.config import NOISE_MODELS
from gan_core.latent import sample_images
from gan_core.metrics.fid import KID_SUBSETS, kid_subset_size
from gan_core.models import load_model
from gan_core.models.base import seeded_generator, to_uint8
from gan_core.runs import Run, runs_root, write_json_atomic
from gan_core.trainer import train

DEFAULT_KID_SAMPLES = 500
# Settings compare decides for every model; the rest of TrainConfig may be overridden.
MANAGED = {"data", "model", "image_size", "epochs", "steps", "batch_size", "seed", "sample_every",
           "checkpoint_every", "tensorboard", "device", "runs_dir", "run_id"}
COLUMNS = ("model", "state", "steps", "epochs", "train_s", "loss_d_final", "loss_d_mean", "loss_g_final",
           "loss_g_mean", "kid_mean", "kid_std", "params_g", "params_d")


def compare(data: str, models=("mlp", "dcgan"), epochs: int = 5, steps: int = 0, image_size: int = 28,
            batch_size: int = 64, seed: int = 0, kid_samples: int = DEFAULT_KID_SAMPLES, sample_every: int = 0,
            tensorboard: bool = True, runs_dir: str = "", out: str = "", device: str = "auto",
            overrides: dict | None = None, callbacks=None, control: Control | None = None) -> Path:
    """Trains (or resumes) one run per model and writes the report folder; returns its path.

    sample_every: steps between grids, 0 = one epoch (the report keeps each epoch's last grid, the
    GIF shows them all). overrides: further TrainConfig values for every model (ngf, lr_g...).
    Raises CancelledError when `control` stops a run: call again with the same `out` to resume.
    """
    unknown = [m for m in models if m not in NOISE_MODELS]
    if unknown or not models:
        raise ValueError(f"models {', '.join(unknown) or '(none)'}: compare noise GANs, {', '.join(NOISE_MODELS)}")
    if kid_samples < 2:
        raise ValueError(f"kid_samples={kid_samples}: KID needs at least 2 samples")
    overrides = overrides or {}
    clash = sorted(MANAGED & set(overrides))
    if clash:
        raise ValueError(f"compare sets {', '.join(clash)} itself: pass them as its own arguments")
    root = runs_root(runs_dir)
    folder = Path(out) if out else root / f"compare-{time.strftime('%Y%m%d-%H%M%S')}"
    folder.mkdir(parents=True, exist_ok=True)
    images = load_images(data, image_size)
    steps_per_epoch = max(1, len(images) // batch_size // overrides.get("accumulation_steps", 1))
    cadence = sample_every or steps_per_epoch
    shared = {**overrides, "data": str(data), "image_size": image_size, "epochs": epochs, "steps": steps,
              "batch_size": batch_size, "seed": seed, "sample_every": cadence, "checkpoint_every": cadence,
              "tensorboard": tensorboard, "device": device, "runs_dir": str(root)}
    runs = {model: train_or_resume({**shared, "model": model, "run_id": f"{folder.name}-{model}"},
                                   steps or epochs * steps_per_epoch, callbacks, control)
            for model in models}
    emit(callbacks, "log", message=f"KID on {kid_samples} samples per model")
    scorer = KIDScorer(real_subset(images.images, kid_samples, seed), device, callbacks, control)
    rows, grids = [], {}
    for model, run in runs.items():
        trained, _ = load_model(run.path, device=scorer.device)
        kid_mean, kid_std = scorer.score(trained, kid_samples, seed, run.id)
        params = trained.parameter_count()
        rows.append({**run_row(model, run, steps_per_epoch), "kid_mean": kid_mean, "kid_std": kid_std,
                     "params_g": params["G"], "params_d": params["D"]})
        grids[model] = copy_epoch_grids(model, run, folder, steps_per_epoch)
        evolution_gif(run, folder / f"{model}_evolution.gif")
    settings = {"data": str(data), "models": list(models), "epochs": epochs, "steps": steps,
                "image_size": image_size, "batch_size": batch_size, "seed": seed, "kid_samples": kid_samples,
                "kid_subsets": KID_SUBSETS, "kid_subset_size": kid_subset_size(min(kid_samples, len(images))),
                "steps_per_epoch": steps_per_epoch, "sample_every": cadence, "train_images": len(images),
                "overrides": overrides}
    write_report(folder, rows, runs, grids, settings)
    return folder


def train_or_resume(values: dict, total_steps: int, callbacks=None, control: Control | None = None) -> Run:
    """Trains the run values describe, resumes it if it exists, skips it if it already finished."""
    run = Run(runs_root(values["runs_dir"]) / values["run_id"])
    model = values["model"]
    if not (run.path / "config.json").exists():
        emit(callbacks, "log", message=f"{model}: training {run.path}")
        run = train(build_config(values), callbacks, control)
    else:
        cfg = resume_config(run.config(strict=True), values)  # raises if the settings changed since
        status = run.status()
        if status.get("state") == "finished" and status.get("step", 0) >= total_steps:
            emit(callbacks, "log", message=f"{model}: {run.path} already finished, skipped")
            return run
        emit(callbacks, "log", message=f"{model}: resuming {run.path}")
        run = train(cfg, callbacks, control, resume=True)
    if run.status()["state"] == "stopped":
        raise CancelledError(f"stopped during the {model} run {run.path}; run the comparison again with the "
                             f"same report folder to resume")
    return run


# --- KID against the real images ------------------------------------------------------------------
def real_subset(images: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    """A seeded random subset of count images (all of them when there are fewer)."""
    order = torch.randperm(len(images), generator=seeded_generator(seed, 13))
    return images[order[:count].sort().values]


class KIDScorer:
    """KID of a model's samples against fixed real images. Inception loads once; the real features
    are cached under the metrics cache, keyed by the images' bytes and the Inception weights.
    (The metrics modules are imported only here: reading a report needs no torch-fidelity.)"""

    def __init__(self, real: torch.Tensor, device: str = "auto", callbacks=None, control: Control | None = None):
        from gan_core.metrics.inception import cache_root, load_extractor, resolve_weights

        self.device, self.callbacks, self.control = select_device(device), callbacks, control
        weights = resolve_weights()
        self.extractor = load_extractor(weights, self.device)
        key = hashlib.sha256(real.contiguous().numpy().tobytes() + weights.identity().encode()).hexdigest()[:32]
        path = cache_root() / "features" / f"real-{key}.pt"
        if path.exists():
            self.real = torch.load(path, map_location="cpu", weights_only=True)["features"]
        else:
            self.real = self.features(real, "real")
            checkpoint.save_atomic({"features": self.real}, path)

    def features(self, images: torch.Tensor, source: str) -> torch.Tensor:
        """Pool features of uint8 [N, C, H, W]; grey images are repeated to RGB as Inception expects."""
        from gan_core.metrics.inception import POOL, extract

        rgb = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images
        batch = 32
        batches = (list(rgb[i:i + batch]) for i in range(0, len(rgb), batch))
        return extract(batches, len(rgb), self.extractor, self.callbacks, self.control, source)[POOL]

    def score(self, model, count: int, seed: int, source: str = "generated") -> tuple[float, float]:
        """KID (mean, std over subsets) of the model's images from count seeded latents."""
        from gan_core.metrics.fid import kernel_inception_distance

        fake = self.features(to_uint8(sample_images(model, count, seed)), source)
        return kernel_inception_distance(fake, self.real, seed)


# --- the report -----------------------------------------------------------------------------------
def run_row(model: str, run: Run, steps_per_epoch: int) -> dict:
    """The row's training columns, from the run's metrics and newest checkpoint."""
    metrics = run.metrics()
    elapsed = checkpoint.load(run.latest_checkpoint()).get("elapsed", 0.0)
    mean = lambda key: sum(r[key] for r in metrics) / len(metrics)  # noqa: E731
    return {
        "model": model, "state": run.status().get("state"), "steps": metrics[-1]["step"],
        "epochs": round(metrics[-1]["step"] / steps_per_epoch, 2), "train_s": round(elapsed, 1),
        "loss_d_final": metrics[-1]["loss_d"], "loss_d_mean": mean("loss_d"),
        "loss_g_final": metrics[-1]["loss_g"], "loss_g_mean": mean("loss_g"),
    }


def copy_epoch_grids(model: str, run: Run, folder: Path, steps_per_epoch: int) -> list[str]:
    """The last grid of each epoch, as <model>_epoch_XX.png (XX counts from 1)."""
    last_of_epoch = {}
    for path in run.samples():
        last_of_epoch[math.ceil(int(path.stem.split("_")[-1]) / steps_per_epoch)] = path
    names = []
    for epoch, path in sorted(last_of_epoch.items()):
        names.append(f"{model}_epoch_{epoch:02d}.png")
        shutil.copyfile(path, folder / names[-1])
    return names


def write_report(folder: Path, rows: list[dict], runs: dict[str, Run], grids: dict[str, list[str]],
                 settings: dict) -> None:
    report = {"created": time.time(), "settings": settings, "kid_samples": settings["kid_samples"],
              "table": rows, "runs": {m: str(r.path.resolve()) for m, r in runs.items()},
              "gifs": {m: f"{m}_evolution.gif" for m in runs}, "grids": grids}
    write_json_atomic(folder / "report.json", report)
    with atomic.atomic_open(folder / "report.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    atomic.write_text(folder / "report.md", markdown(report))


FORMATS = {"epochs": "{:.2f}", "train_s": "{:.1f}", "kid_mean": "{:.4f}", "kid_std": "{:.4f}",
           "params_g": "{:,}", "params_d": "{:,}"}


def _cell(column: str, value) -> str:
    if isinstance(value, float) and column.startswith("loss"):
        return f"{value:.3f}"
    return FORMATS.get(column, "{}").format(value)


def markdown(report: dict) -> str:
    s = report["settings"]
    count, unit = (s["steps"], "step") if s["steps"] else (s["epochs"], "epoch")
    budget = f"{count} {unit}{'s' if count != 1 else ''}"
    lines = [f"# {' vs '.join(s['models'])} on {s['data']}", "",
             f"{budget} of batch {s['batch_size']} ({s['steps_per_epoch']} steps per epoch, {s['train_images']} "
             f"images at {s['image_size']} px), seed {s['seed']}. train_s: seconds spent in optimizer steps. "
             f"KID: Inception pool features of {report['kid_samples']} generated vs {report['kid_samples']} real "
             f"images, mean and std over {s['kid_subsets']} subsets of {s['kid_subset_size']} (lower is better).",
             "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cell(c, row[c]) for c in COLUMNS) + " |" for row in report["table"]]
    for model, gif in report["gifs"].items():
        lines += ["", f"## {model}", "", f"Run: `{report['runs'][model]}`", "", f"![{model} evolution]({gif})", ""]
        lines += [f"![{name}]({name})" for name in report["grids"][model][-1:]]
    return "\n".join(lines) + "\n"
