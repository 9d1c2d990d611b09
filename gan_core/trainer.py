"""One training loop for every model: `train(config, callbacks, control)`.

The loop draws micro-batches from the model, takes optimizer steps, and reports every step
through the stats channel. It writes fixed-input sample grids and atomic checkpoints, honours
pause/stop requests between steps, stops on a non-finite loss with status `failed`, and resumes
a run exactly from its newest loadable checkpoint (step, epoch, batch order, optimizers,
schedulers, EMA, RNG). With --quality-every it runs the quality probe (gan_core.quality) at a
checkpoint, keeps the best probe's checkpoint as checkpoints/best.pt and steps --scheduler plateau
on it; with --fork it starts from another run's checkpoint (gan_core.fork). Under torchrun every
process runs this loop on its shard of the data (gan_core.distributed); rank 0 alone writes the
run directory and runs the probe.
"""
from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path

import torch

from gan_core import checkpoint, distributed, fork
from gan_core.config import TRANSLATION_MODELS, TrainConfig, default_data_path
from gan_core.device import select_device, use_bf16
from gan_core.events import Control, emit
from gan_core.models import build_model
from gan_core.grid import grid_rows, make_grid, to_image
from gan_core.reporting import StatsWriter
from gan_core.runs import HEARTBEAT_S, Run, claim_run, create_run, runs_root, truncate_jsonl, write_json_atomic
from gan_core.schedules import replanned_rates

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


def refuse_unsupported(cfg: TrainConfig, device: torch.device | None = None) -> None:
    """ValueError naming every invalid setting, or bf16 asked for on a device without it."""
    problems = cfg.validate()
    if problems:
        raise ValueError("invalid training settings: " + "; ".join(problems))
    if device is not None:
        use_bf16(cfg.bf16, device)


def save_grid(images: torch.Tensor, path: Path) -> torch.Tensor:
    """Write a [-1, 1] batch as a PNG grid (atomically: the studio may be reading it)."""
    grid = make_grid(images, nrow=grid_rows(len(images)))
    from gan_core.atomic import atomic_open

    with atomic_open(path, "wb", fsync=False) as f:  # a grid is redrawn: no fsync
        to_image(grid).save(f, format="png")
    return grid


class Trainer:
    def __init__(self, cfg: TrainConfig, callbacks=None, control: Control | None = None, resume: bool = False):
        self.cfg, self.callbacks = cfg, list(callbacks or [])
        self.control = control or Control()
        self.resume = resume
        self.run: Run | None = None
        self.run_path: Path | None = None

    # --- set-up -------------------------------------------------------------------------------
    def _prepare(self) -> None:
        cfg, dist = self.cfg, self.dist
        run_path = self.run_path = self.run_path or self._run_path()
        exists = (run_path / "config.json").exists()
        if exists and not self.resume:
            raise ValueError(f"run {run_path} already exists: pass --resume to continue it, "
                             f"or choose another --run-id")
        self.device = dist.device
        refuse_unsupported(cfg, self.device)
        torch.manual_seed(cfg.seed)
        # Rank 0 first: it decodes a new dataset into the cache once, the others then read it. Rank 0
        # creates the run only after this, so every rank has checked that the run is new.
        with dist.main_first():
            data = load_training_images(cfg, self.callbacks)
        self.model = build_model(cfg, data.channels, self.device)
        self.model.distribute(dist.rank, dist.world_size)
        train_set = data if cfg.model in TRANSLATION_MODELS else data.select(cfg.domain)
        self.model.attach_data(train_set)
        parent = self._fork_parent() if cfg.fork and not exists else None
        if dist.is_main:
            self.run = create_run(run_path.parent, run_path.name)
            saved = {**cfg.to_dict(), "run_id": run_path.name, "channels": data.channels,
                     "train_images": len(train_set), "steps_per_epoch": self.model.steps_per_epoch,
                     "data_report": data.report.to_dict(), "precision": "bf16" if self.model.bf16 else "fp32"}
            if exists:  # a resumed fork keeps the record of where it came from
                parent_record = Run(run_path).config().get("fork_of")
                saved.update({"fork_of": parent_record} if parent_record else {})
            elif parent:
                saved["fork_of"] = {"run": str(parent[0].path), "checkpoint": str(parent[1]), "step": parent[2]["step"]}
            write_json_atomic(self.run.path / "config.json", saved)
        else:
            self.run = Run(run_path)
        self.step, self.epoch, self.index, self.elapsed = 0, 0, 0, 0.0
        self.last_checkpoint_step = 0
        self.notice = ""
        if not (self.resume and self._restore()) and cfg.fork:
            self._start_from((parent or self._fork_parent())[2])
        self.probe = None
        if cfg.quality_every and dist.is_main:
            from gan_core.quality import QualityProbe  # loads Inception; only when asked for

            self.probe = QualityProbe(cfg, train_set, self.device)
        best = self.run.best_quality() if dist.is_main else None
        self.best_fid = best["fid"] if best else math.inf

    def _fork_parent(self):
        """(parent run, checkpoint path, checkpoint) of --fork, checked against this config."""
        run, path = fork.fork_source(self.cfg.fork, self.cfg.runs_dir)
        try:
            ckpt = checkpoint.load(path, map_location=self.device, require=checkpoint.TRAINING_KEYS)
        except ValueError as e:
            raise ValueError(f"cannot fork: {e}") from e
        fork.check_fork(ckpt["config"], self.cfg, path)
        return run, path, ckpt

    def _start_from(self, ckpt: dict) -> None:
        """A fork's start: the parent's weights, EMA and optimizer moments, this config's learning
        rates, betas and (fresh) schedules; step 0."""
        model = self.model
        settings = {name: [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
                    for name, opt in model.optimizers.items()}
        state = ckpt["state"]
        for name, net in model.nets.items():
            net.load_state_dict(state["nets"][name])
        for name, opt in model.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
            for group, own in zip(opt.param_groups, settings[name]):
                group.update(own)
        if model.ema and state.get("ema") is not None:
            model.ema.load_state_dict(state["ema"])
        elif model.ema:
            model.reset_ema()
        model.load_extra_state(state.get("extra") or {})

    def _restore(self) -> bool:
        """Load the newest checkpoint that loads; damaged newer ones are set aside (*.pt.bad) and
        reported. False when the run has no checkpoint yet; ValueError when it has some and none
        loads (starting again from step 0 would throw the run's metrics away)."""
        candidates = self.run.checkpoints()
        found = checkpoint.load_newest(candidates, self.device,
                                       lambda message: emit(self.callbacks, "log", message=f"warning: {message}"))
        if found is None:
            if candidates:
                raise ValueError(f"cannot resume {self.run.path}: none of its {len(candidates)} checkpoint(s) loads "
                                 f"(each renamed to *.pt.bad); its metrics are left as they are. Start a new run "
                                 f"(another --run-id), or restore a checkpoint into {self.run.checkpoints_dir}")
            return False
        _, ckpt = found
        self.model.load_state_dict(ckpt["state"])
        self.step, self.epoch, self.index = ckpt["step"], ckpt["epoch"], ckpt["index"]
        self.elapsed = ckpt.get("elapsed", 0.0)
        self.last_checkpoint_step = self.step
        _set_rng_state(ckpt["rng"])
        changes = replanned_rates(self.model.schedulers, self.model.optimizers)
        if changes:
            self.notice = (f"the linear schedule was re-planned over {self.model.total_steps:,} steps (the run "
                           f"was given more steps): at step {self.step:,} "
                           + ", ".join(f"lr {name} {old:.3g} -> {new:.3g}" for name, old, new in changes))
            emit(self.callbacks, "log", message=f"note: {self.notice}")
        return True

    # --- outputs ------------------------------------------------------------------------------
    def _save_checkpoint(self) -> None:
        if self.dist.is_main:
            self._write_checkpoint()
        self.last_checkpoint_step = self.step
        self.dist.barrier()  # a rank killed from here on resumes from the file rank 0 wrote

    def _payload(self) -> dict:
        return {
            "format": CHECKPOINT_FORMAT, "step": self.step, "epoch": self.epoch, "index": self.index,
            "elapsed": self.elapsed, "channels": self.model.channels, "config": self.cfg.to_dict(),
            "state": self.model.state_dict(), "rng": _rng_state(),
        }

    def _write_checkpoint(self) -> None:
        path = checkpoint.save_atomic(self._payload(), self.run.checkpoints_dir / f"step_{self.step:06d}.pt")
        keep = self.cfg.keep_checkpoints
        if keep > 0:
            for old in self.run.checkpoints()[:-keep]:
                old.unlink(missing_ok=True)
        emit(self.callbacks, "checkpoint", step=self.step, path=str(path))

    def _probe_due(self, done: bool) -> bool:
        every = self.cfg.quality_every
        return bool(every) and self.step > 0 and (self.step % every == 0 or done)

    def _run_probe(self) -> None:
        """Probe at a checkpoint (written first if this step has none), so every probe row and best.pt
        belong to a step a resume can reach. Rank 0 measures; every rank steps the plateau schedule."""
        if self.step > self.last_checkpoint_step:
            self._save_checkpoint()
        row = None
        if self.dist.is_main:
            row = self.probe.measure(self.model, self.step)
            with open(self.run.quality_path, "a") as f:
                f.write(json.dumps(row) + "\n")
            if row["fid"] < self.best_fid:
                self.best_fid = row["fid"]
                checkpoint.save_atomic(self._payload(), self.run.best_path)
                write_json_atomic(self.run.checkpoints_dir / "best.json", row)
            self.stats.write_quality(row)
            emit(self.callbacks, "quality", **row, best_fid=self.best_fid)
        fid = self.dist.from_main(row["fid"] if row else None)
        self.model.after_quality_probe(fid)

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
        refuse_unsupported(self.cfg)
        with distributed.process_group(select_device(self.cfg.device)) as self.dist:
            return self._fit()

    def _fit(self) -> Run:
        self.run_path = self._run_path()
        with claim_run(self.run_path) if self.dist.is_main else contextlib.nullcontext():
            return self._fit_claimed()

    def _run_path(self) -> Path:
        return runs_root(self.cfg.runs_dir) / self.dist.from_main(self.cfg.run_id or default_run_id(self.cfg))

    def _fit_claimed(self) -> Run:
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

    def _heartbeat(self) -> None:
        """Tell status.json readers on other hosts that this process is alive (runs.Run.live_state)."""
        now = time.monotonic()
        if now - self._last_beat >= HEARTBEAT_S:
            self._last_beat = now
            self.run.heartbeat()

    def _loop(self, cfg: TrainConfig, model) -> Run:
        main = self.dist.is_main
        self._last_beat = time.monotonic()
        if main:
            # A resume drops the rows a killed process wrote after its checkpoint: no duplicates or gaps.
            for path in (self.run.metrics_path, self.run.quality_path):
                truncate_jsonl(path, self.step)
            self.run.set_status("running", self.notice, step=self.step, total_steps=model.total_steps)
            # Pause, continue and stop requests from other processes (the studio, for a CLI or torchrun
            # run). Rank 0 alone reads them: the others wait for it at their next collective.
            self.control.watch(self.run.path)
        emit(self.callbacks, "start", run=str(self.run.path), total_steps=model.total_steps,
             resumed_from=self.step, steps_per_epoch=model.steps_per_epoch)
        done = self.step >= model.total_steps
        probed = {r["step"] for r in self.run.quality()} if main else set()
        if self._probe_due(done) and self.dist.from_main(self.step not in probed):
            self._run_probe()  # killed between its checkpoint and its probe
        if done:
            return self._end("finished", f"already finished at step {self.step}")
        accum = cfg.accumulation_steps
        while self.step < model.total_steps:
            self.control.wait_while_paused(
                on_pause=lambda: self.run.set_status("paused", f"paused at step {self.step}", step=self.step),
                on_resume=lambda: self.run.set_status("running", "", step=self.step),
                while_paused=self._heartbeat if main else None)
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
                                           f"{self.last_checkpoint_step}) is kept. Fork it with lower learning "
                                           f"rates (or --loss hinge): train --fork {self.run.id} --run-id "
                                           f"{self.run.id}-fork --lr-g {cfg.lr_g / 2:g} --lr-d {cfg.lr_d / 2:g}")
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
                self._heartbeat()
            done = self.step >= model.total_steps
            if main and (self.step % cfg.sample_every == 0 or done):
                self._save_samples()
            if self.step % cfg.checkpoint_every == 0 or done:
                self._save_checkpoint()
            if self._probe_due(done):
                self._run_probe()
        probes = sum(r.get("seconds", 0) for r in self.run.quality()) if self.probe else 0
        extra = f" (and {probes:.0f} s of quality probes)" if probes else ""
        return self._end("finished", f"finished {self.step} steps in {self.elapsed:.0f} s of training{extra}")


def train(cfg: TrainConfig, callbacks=None, control: Control | None = None, resume: bool = False) -> Run:
    """Train (or resume) a run described by cfg; returns its Run. Status and metrics are on disk."""
    return Trainer(cfg, callbacks, control, resume).fit()
