"""Learning-rate schedules, one factory for every model (`--scheduler`).

none     constant rates.
linear   CycleGAN's: constant, then linear decay to --min-lr over the last --decay-epochs
         (of the run's total steps). Stepped after every optimizer step.
plateau  ReduceLROnPlateau keyed on the quality probe's FID (needs --quality-every): once more
         than --plateau-patience probes in a row bring no new best, every rate is multiplied by
         --plateau-factor, never below --min-lr. A GAN's per-step losses do not say whether the
         images improve, and at equilibrium they are flat noise, so they are not used.

A resumed run that was given more steps or epochs re-plans `linear` over its new total: the
decay moves to the new end, so a finished (decayed) run goes back up to the rate its new schedule
gives at that step. `replanned_rates` says so, and the trainer reports it.
"""
from __future__ import annotations

import torch
from torch.optim.lr_scheduler import LambdaLR, ReduceLROnPlateau


def linear_decay(total_steps: int, decay_steps: int, floor: float = 0.0):
    """LambdaLR factor: 1 until the last decay_steps, then linearly down to `floor` at the end."""
    start = max(total_steps - decay_steps, 0)

    def factor(step: int) -> float:
        if decay_steps <= 0 or step < start:
            return 1.0
        return floor + (1.0 - floor) * max(0.0, 1.0 - (step - start) / decay_steps)
    return factor


def make_schedulers(cfg, optimizers: dict[str, torch.optim.Optimizer], total_steps: int,
                    steps_per_epoch: int) -> dict:
    if cfg.scheduler == "linear":
        decay_steps = cfg.decay_epochs * steps_per_epoch
        return {name: LambdaLR(opt, [linear_decay(total_steps, decay_steps, min(1.0, cfg.min_lr / g["lr"]))
                                     for g in opt.param_groups])
                for name, opt in optimizers.items()}
    if cfg.scheduler == "plateau":
        return {name: ReduceLROnPlateau(opt, mode="min", factor=cfg.plateau_factor, patience=cfg.plateau_patience,
                                        min_lr=cfg.min_lr)
                for name, opt in optimizers.items()}
    return {}


def step_every_step(schedulers: dict) -> None:
    for sched in schedulers.values():
        if not isinstance(sched, ReduceLROnPlateau):
            sched.step()


def step_on_quality(schedulers: dict, fid: float) -> None:
    for sched in schedulers.values():
        if isinstance(sched, ReduceLROnPlateau):
            sched.step(fid)


def replanned_rates(schedulers: dict, optimizers: dict) -> list[tuple[str, float, float]]:
    """After loading a checkpoint: (optimizer, rate it had, rate its schedule gives now) for every
    per-step schedule whose plan moved (more steps or epochs than the run started with), and sets
    the new rates, so the next step uses them."""
    changes = []
    for name, sched in schedulers.items():
        if not isinstance(sched, LambdaLR):
            continue
        for group, base, factor in zip(optimizers[name].param_groups, sched.base_lrs, sched.lr_lambdas):
            new = base * factor(sched.last_epoch)
            if abs(new - group["lr"]) > 1e-3 * base:
                changes.append((name, group["lr"], new))
                group["lr"] = new
    return changes
