"""How long a long job will take on this machine, before it starts. A training (or a sweep's): its
plan (images, steps per epoch, total steps) and a few optimizer steps of the real model on the real
data, timed; nothing is written (no run directory, no checkpoint) and the global random state is
left as it was. A score: Inception features of a few batches of the images, timed."""
from __future__ import annotations

import dataclasses
import json
import statistics
import time

import torch

from gan_core.config import TRANSLATION_MODELS, TrainConfig
from gan_core.device import select_device
from gan_core.events import emit


@dataclasses.dataclass(frozen=True)
class TrainingEstimate:
    batch_size: int
    train_images: int
    steps_per_epoch: int
    total_steps: int
    seconds_per_step: float  # the median of the timed steps (the first ones warm up and are not counted)
    timed_steps: int
    device: str

    @property
    def seconds(self) -> float:
        """Optimizer steps only: quality probes, sample grids and checkpoints come on top."""
        return self.total_steps * self.seconds_per_step


def estimate_training(cfg: TrainConfig, timed_steps: int = 3, warmup_steps: int = 1, callbacks=None,
                      control=None) -> TrainingEstimate:
    """Plan cfg's training and time `timed_steps` optimizer steps after `warmup_steps`. Raises
    ValueError (naming the settings) for settings the trainer would refuse."""
    from gan_core.models import build_model
    from gan_core.trainer import load_training_images, refuse_unsupported

    device = select_device(cfg.device)
    refuse_unsupported(cfg, device)
    data = load_training_images(cfg, callbacks)
    total = warmup_steps + timed_steps
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(cfg.seed)
        model = build_model(cfg, data.channels, device)
        train_set = data if cfg.model in TRANSLATION_MODELS else data.select(cfg.domain)
        model.attach_data(train_set)
        accum, seconds = cfg.accumulation_steps, []
        for step in range(total):
            if control is not None and control.should_stop():
                break
            emit(callbacks, "progress", task="timing a step", done=step, total=total)
            t0 = time.perf_counter()
            micro = [model.micro_batch(0, (step % model.steps_per_epoch) * accum + k) for k in range(accum)]
            float(sum(v.float() for v in model.train_step(micro).values()))  # wait for the device
            seconds.append(time.perf_counter() - t0)
        emit(callbacks, "progress", task="timing a step", done=len(seconds), total=total)
    timed = seconds[warmup_steps:] or seconds
    if not timed:
        raise ValueError("the estimate was stopped before its first step")
    return TrainingEstimate(batch_size=cfg.batch_size, train_images=len(train_set),
                            steps_per_epoch=model.steps_per_epoch, total_steps=model.total_steps,
                            seconds_per_step=statistics.median(timed), timed_steps=len(timed), device=str(device))


def estimate_runs(configs: list[TrainConfig], timed_steps: int = 3, callbacks=None,
                  control=None) -> list[TrainingEstimate]:
    """One estimate per config (a sweep's combinations). Configs that differ only in their learning
    rates and run id do the same work, so each such group is timed once."""
    timed: dict[str, TrainingEstimate] = {}
    estimates = []
    for cfg in configs:
        work = json.dumps({**cfg.to_dict(), "lr_g": None, "lr_d": None, "run_id": None}, sort_keys=True, default=str)
        if work not in timed:
            timed[work] = estimate_training(cfg, timed_steps=timed_steps, callbacks=callbacks, control=control)
        estimates.append(timed[work])
    return estimates


@dataclasses.dataclass(frozen=True)
class ScoringEstimate:
    n_generated: int
    n_reference: int
    reference_cached: bool  # then only the generated images need features
    seconds_per_image: float
    device: str

    @property
    def seconds(self) -> float:
        return (self.n_generated + (0 if self.reference_cached else self.n_reference)) * self.seconds_per_image


def estimate_scoring(images, reference=None, max_images: int | None = None, device: str = "auto", weights=None,
                     timed_batches: int = 2, callbacks=None, control=None) -> ScoringEstimate:
    """How long evaluate(images, reference, max_images) will take here: Inception features of a
    few batches of the generated images timed (after one warm-up batch), times the images that
    need features. Errors are evaluate's, for the same input."""
    import itertools

    from gan_core.metrics.feature_cache import cache_path
    from gan_core.metrics.inception import extract, load_extractor, resolve_weights
    from gan_core.metrics.scoring import open_sets, scoring_batch_size

    _, generated, reference_set = open_sets(images, reference, max_images)
    chosen, torch_device = resolve_weights(weights), select_device(device)
    batch_size = scoring_batch_size(torch_device)
    if len(generated) <= batch_size:
        raise ValueError(f"{generated.path}: {len(generated)} images are too few to time a batch of {batch_size} "
                         f"after a warm-up one; score them directly")
    extractor = load_extractor(chosen, torch_device)
    seconds, images_timed = 0.0, 0
    batches = itertools.islice(generated.batches(batch_size), 1 + timed_batches)
    for i, batch in enumerate(batches):
        emit(callbacks, "progress", task="timing a batch", done=i, total=1 + timed_batches)
        t0 = time.perf_counter()
        extract([batch], len(batch), extractor, control=control)
        if i:  # the first batch warms up
            seconds, images_timed = seconds + time.perf_counter() - t0, images_timed + len(batch)
    if not images_timed:
        raise ValueError(f"{generated.path}: too few readable images to time a batch of {batch_size} "
                         f"after a warm-up one; score them directly")
    return ScoringEstimate(n_generated=len(generated), n_reference=len(reference_set),
                           reference_cached=cache_path(reference_set, chosen).exists(),
                           seconds_per_image=seconds / images_timed, device=str(torch_device))
