"""One training loop for every model: `train(config, callbacks, control)`.

The loop draws micro-batches from the model, takes optimizer steps, and reports every step
through the stats channel. It writes fixed-input sample grids and atomic checkpoints, honours
pause/stop requests between steps, stops on a non-finite loss with status `failed`, and resumes
a run exactly from its newest loadable checkpoint (step, epoch, batch order, optimizers,
schedulers, EMA, RNG). Under torchrun every process runs this loop on its shard of the data
(gan_core.distributed); rank 0 alone writes the run directory.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import torch
import torchvision.utils as vutils

from gan_core import checkpoint, distributed
from gan_core.config import TRANSLATION_MODELS, TrainConfig, default_data_path
from gan_core.device import bf16_supported, select_device
from gan_core.events import Control, emit
from gan_core.models import build_model
from gan_core.models.base import grid_rows
from gan_core.reporting import StatsWriter
from gan_core.runs import Run, create_run, runs_root, write_json_atomic

CHECKPOINT_FORMAT = 1


def default_run_id(cfg: TrainConfig) -> str:
    return f"{cfg.model}-{time.strftime('%Y%m%d-%H%M%S')}"


def _rng_state() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    # RNG states must be CPU byte tensors; a checkpoint loaded onto a GPU moved them there.
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def load_training_images(cfg: TrainConfig, callbacks=None):
    from gan_core.data import load_images  # the data layer imports PIL/numpy; only needed here

    return load_images(cfg.data or default_data_path(), cfg.image_size, callbacks=callbacks)


def save_grid(images: torch.Tensor, path: Path) -> torch.Tensor:
    """Write a [-1, 1] batch as a PNG grid (atomically: the studio may be reading it)."""
    grid = vutils.make_grid(images, nrow=grid_rows(len(images)), normalize=True, value_range=(-1, 1))
    tmp = path.with_name(f".{path.stem}.tmp.png")
    vutils.save_image(grid, tmp)
    tmp.replace(path)
    return grid


class Trainer:
    def __init__(self, cfg: TrainConfig, callbacks=None, control: Control | None = None, resume: bool = False):
        self.cfg, self.callbacks = cfg, list(callbacks or [])
        self.control = control or Control()
        self.resume = resume
        self.run: Run | None = None

    # --- set-up -------------------------------------------------------------------------------
    def _prepare(self) -> None:
        cfg, dist = self.cfg, self.dist
        run_path = runs_root(cfg.runs_dir) / dist.from_main(cfg.run_id or default_run_id(cfg))
        exists = (run_path / "config.json").exists()
        if exists and not self.resume:
            raise ValueError(f"run {run_path} already exists: pass --resume to continue it, "
                             f"or choose another --run-id")
        self.device = dist.device
        if cfg.bf16 and not bf16_supported(self.device):
            raise ValueError(f"bf16 autocast was asked for but {self.device} does not support bf16; "
                             f"drop --bf16")
        torch.manual_seed(cfg.seed)
        # Rank 0 first: it decodes a new dataset into the cache once, the others then read it. Rank 0
        # creates the run only after this, so every rank has checked that the run is new.
        with dist.main_first():
            data = load_training_images(cfg, self.callbacks)
        self.model = build_model(cfg, data.channels, self.device)
        self.model.distribute(dist.rank, dist.world_size)
        train_set = data if cfg.model in TRANSLATION_MODELS else data.select(cfg.domain)
        self.model.attach_data(train_set)
        if dist.is_main:
            self.run = create_run(run_path.parent, run_path.name)
            saved = {**cfg.to_dict(), "run_id": run_path.name, "channels": data.channels,
                     "train_images": len(train_set), "data_report": data.report.to_dict()}
            write_json_atomic(self.run.path / "config.json", saved)
        else:
            self.run = Run(run_path)
        self.step, self.epoch, self.index, self.elapsed = 0, 0, 0, 0.0
        self.last_checkpoint_step = 0
        if self.resume:
            self._restore()

    def _restore(self) -> None:
        """Load the newest checkpoint that loads; a damaged newer one is passed over, not fatal."""
        for path in reversed(self.run.checkpoints()):
            try:
                ckpt = checkpoint.load(path, map_location=self.device)
            except ValueError as e:
                emit(self.callbacks, "log", message=f"skipping unreadable checkpoint: {e}")
                continue
            self.model.load_state_dict(ckpt["state"])
            self.step, self.epoch, self.index = ckpt["step"], ckpt["epoch"], ckpt["index"]
            self.elapsed = ckpt.get("elapsed", 0.0)
            self.last_checkpoint_step = self.step
            _set_rng_state(ckpt["rng"])
            return

    # --- outputs ------------------------------------------------------------------------------
    def _save_checkpoint(self) -> None:
        if self.dist.is_main:
            self._write_checkpoint()
        self.last_checkpoint_step = self.step
        self.dist.barrier()  # a rank killed from here on resumes from the file rank 0 wrote

    def _write_checkpoint(self) -> None:
        payload = {
            "format": CHECKPOINT_FORMAT, "step": self.step, "epoch": self.epoch, "index": self.index,
            "elapsed": self.elapsed, "channels": self.model.channels, "config": self.cfg.to_dict(),
            "state": self.model.state_dict(), "rng": _rng_state(),
        }
        path = checkpoint.save_atomic(payload, self.run.checkpoints_dir / f"step_{self.step:06d}.pt")
        keep = self.cfg.keep_checkpoints
        if keep > 0:
            for old in self.run.checkpoints()[:-keep]:
                old.unlink(missing_ok=True)
        emit(self.callbacks, "checkpoint", step=self.step, path=str(path))

    def _save_samples(self) -> None:
        path = self.run.samples_dir / f"step_{self.step:06d}.png"
        grid = save_grid(self.model.sample_grid(), path)
        self.stats.write_images("samples", grid, self.step)
        emit(self.callbacks, "sample", step=self.step, path=str(path))

    def _end(self, state: str, message: str) -> Run:
        if self.dist.is_main:
            self.run.set_status(state, message, step=self.step, total_steps=self.model.total_steps)
        emit(self.callbacks, "end", state=state, message=message, run=str(self.run.path))
        return self.run

    # --- the loop -----------------------------------------------------------------------------
    def fit(self) -> Run:
        problems = self.cfg.validate()
        if problems:
            raise ValueError("invalid training settings: " + "; ".join(problems))
        with distributed.process_group(select_device(self.cfg.device)) as self.dist:
            return self._fit()

    def _fit(self) -> Run:
        self._prepare()
        cfg, model = self.cfg, self.model
        self.stats = StatsWriter(self.run, self.callbacks, cfg.tensorboard and self.dist.is_main, self.step)
        try:
            return self._loop(cfg, model)
        except Exception as e:
            self._end("failed", f"{type(e).__name__}: {e}")
            raise
        finally:
            self.stats.close()

    def _loop(self, cfg: TrainConfig, model) -> Run:
        main = self.dist.is_main
        if main:
            self.stats.truncate_after(self.step)
            self.run.set_status("running", "", step=self.step, total_steps=model.total_steps)
        emit(self.callbacks, "start", run=str(self.run.path), total_steps=model.total_steps,
             resumed_from=self.step, steps_per_epoch=model.steps_per_epoch)
        if self.step >= model.total_steps:
            return self._end("finished", f"already finished at step {self.step}")
        accum = cfg.accumulation_steps
        while self.step < model.total_steps:
            self.control.wait_while_paused(
                on_pause=lambda: self.run.set_status("paused", f"paused at step {self.step}", step=self.step),
                on_resume=lambda: self.run.set_status("running", "", step=self.step))
            if self.dist.any(self.control.should_stop()):
                if self.step > self.last_checkpoint_step:
                    self._save_checkpoint()
                return self._end("stopped", f"stopped at step {self.step} of {model.total_steps}; "
                                            f"resume continues from there")
            self.dist.reseed(cfg.seed, self.step)
            t0 = time.perf_counter()
            micro = [model.micro_batch(self.epoch, self.index * accum + k) for k in range(accum)]
            values = self.dist.mean(model.train_step(micro))
            dt = time.perf_counter() - t0
            bad = [k for k, v in values.items() if not math.isfinite(v)]
            if bad:
                return self._end("failed", f"{bad[0]} became {values[bad[0]]} at step {self.step + 1}; "
                                           f"training stopped and the last good checkpoint (step "
                                           f"{self.last_checkpoint_step}) is kept. Lower the learning "
                                           f"rates or try --loss hinge, then resume.")
            model.after_step(self.step + 1, values)
            self.step += 1
            self.elapsed += dt
            row = {"step": self.step, "epoch": self.epoch + 1, "time": time.time(), **values,
                   **model.learning_rates(), "images_per_s": cfg.batch_size * accum * self.dist.world_size / dt}
            self.index += 1
            if self.index >= model.steps_per_epoch:
                self.epoch, self.index = self.epoch + 1, 0
            if main:
                self.stats.write_step(row, model.total_steps)
            done = self.step >= model.total_steps
            if main and (self.step % cfg.sample_every == 0 or done):
                self._save_samples()
            if self.step % cfg.checkpoint_every == 0 or done:
                self._save_checkpoint()
        return self._end("finished", f"finished {self.step} steps in {self.elapsed:.0f} s of training")


def train(cfg: TrainConfig, callbacks=None, control: Control | None = None, resume: bool = False) -> Run:
    """Train (or resume) a run described by cfg; returns its Run. Status and metrics are on disk."""
    return Trainer(cfg, callbacks, control, resume).fit()
