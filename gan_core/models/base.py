"""The small base every GAN formulation builds on, and the data indexing they share.

A model owns its networks, optimizers, schedulers and EMA, knows how to draw its micro-batches
and how to take one optimizer step. The trainer (gan_core.trainer) owns everything else:
the loop, metrics, samples, checkpoints, resume, stop/pause and the NaN guard.

Batches are drawn deterministically from (seed, epoch, index), so a resumed run sees exactly
the batches the uninterrupted run would have seen, with no sampler state to save.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gan_core.config import TrainConfig
from gan_core.device import autocast, use_bf16
from gan_core.ema import EMA
from gan_core.schedules import make_schedulers, step_every_step, step_on_quality


def seeded_generator(*keys: int) -> torch.Generator:
    seed = 0
    for k in keys:
        seed = (seed * 1_000_003 + int(k)) % (2 ** 63)
    return torch.Generator().manual_seed(seed)


def to_model_range(images_uint8: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1] on the device."""
    return images_uint8.to(device, non_blocking=True).float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> uint8 [0, 255] (computed in fp32, whatever the input's precision)."""
    return images.float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)


@contextlib.contextmanager
def eval_mode(net: nn.Module):
    """The net in eval mode for the block, then back to the mode it was in."""
    was_training = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(was_training)


def random_flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    flip = torch.rand(x.size(0), generator=gen) < 0.5
    if flip.any():
        x = x.clone()
        x[flip] = x[flip].flip(-1)
    return x


class GANModel:
    """Subclasses set `nets`, `optimizers`, `schedulers`, `ema`, and implement the hooks below."""

    #: metric names a step reports; the studio plots these generically
    loss_names: tuple[str, ...] = ()
    #: the net the EMA averages (when --ema)
    ema_net = "G"

    def __init__(self, cfg: TrainConfig, channels: int, device: torch.device):
        self.cfg, self.channels, self.device = cfg, channels, device
        self.bf16 = use_bf16(cfg.bf16, device)  # auto resolved on this device, so a resume elsewhere re-decides
        self.nets: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, object] = {}
        self.ema: EMA | None = None
        self.steps_per_epoch = 1
        self.total_steps = 1
        self.rank, self.world_size = 0, 1

    def autocast(self):
        return autocast(self.device, self.bf16)

    def adam(self, params, lr: float) -> torch.optim.Optimizer:
        """Adam with its fused kernel on CPUs and CUDA GPUs: one pass over each parameter instead of
        a dozen elementwise ops, the same update (bench/RESULTS.md: CUT's CPU step 1.13x faster)."""
        fused = self.device.type in ("cpu", "cuda")
        return torch.optim.Adam(params, lr=lr, betas=(self.cfg.beta1, self.cfg.beta2), fused=fused)

    def plan(self, n_micro_batches_per_epoch: int) -> None:
        """Set steps per epoch and the total, from the data size, epochs/steps and accumulation, and
        the learning-rate schedules over them (gan_core.schedules)."""
        cfg = self.cfg
        self.steps_per_epoch = max(1, n_micro_batches_per_epoch // cfg.accumulation_steps)
        self.total_steps = cfg.steps if cfg.steps > 0 else cfg.epochs * self.steps_per_epoch
        self.schedulers = make_schedulers(cfg, self.optimizers, self.total_steps, self.steps_per_epoch)

    # --- several processes (torchrun) ---------------------------------------------------------
    def distribute(self, rank: int, world_size: int) -> None:
        """Called before attach_data. With several processes, wraps every net in
        DistributedDataParallel: `self.<name>` then points to the wrapper (training forwards sync
        gradients through it) while `self.nets` keeps the bare modules (checkpoints, EMA,
        inference, and forwards whose gradients must not be synced)."""
        self.rank, self.world_size = rank, world_size
        if world_size == 1:
            return
        if self.cfg.sync_batchnorm and self.device.type != "cuda":
            raise ValueError("--sync-batchnorm needs CUDA GPUs (the nccl backend): SyncBatchNorm has no CPU "
                             "implementation; drop the flag when training on the CPU")
        for name, net in list(self.nets.items()):
            attribute_is_net = getattr(self, name, None) is net
            if self.cfg.sync_batchnorm:
                net = self.nets[name] = nn.SyncBatchNorm.convert_sync_batchnorm(net)
            # No buffer sync in forward: rank 0's BatchNorm statistics are its own either way, and a
            # forward of the wrapper then needs no collective (rank 0 alone draws sample grids).
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            wrapped = DistributedDataParallel(net, device_ids=device_ids, forward_sync_buffers=False)
            if attribute_is_net:
                setattr(self, name, wrapped)

    def average_gradients(self, *modules: nn.Module) -> None:
        """All-reduce the gradients of bare (unwrapped) modules over the processes. For networks whose
        forward passes all come before their backward passes (a G forwarded in the D step, its
        backward in the G step), which DistributedDataParallel can only sync for one micro-batch."""
        if self.world_size == 1:
            return
        grads = [p.grad for m in modules for p in m.parameters() if p.grad is not None]
        flat = torch.cat([g.flatten() for g in grads])
        torch.distributed.all_reduce(flat)
        flat /= self.world_size
        for g, part in zip(grads, flat.split([g.numel() for g in grads])):
            g.copy_(part.view_as(g))

    def shard(self, order: torch.Tensor) -> torch.Tensor:
        """This process's part of an epoch's order, as DistributedSampler(drop_last=True) takes it:
        every world_size-th index from rank on, the remainder dropped."""
        if self.world_size == 1:
            return order
        return order[:self.shard_size(len(order)) * self.world_size][self.rank::self.world_size]

    def shard_size(self, n: int) -> int:
        return n // self.world_size

    # --- hooks -----------------------------------------------------------------------------
    def attach_data(self, images) -> None:
        """Keep the training images (a gan_core.data.ImageSet) and call plan()."""
        raise NotImplementedError

    def micro_batch(self, epoch: int, index: int):
        """The index-th micro-batch of an epoch (deterministic)."""
        raise NotImplementedError

    def train_step(self, micro_batches: list) -> dict[str, torch.Tensor]:
        """One optimizer step for every network; returns scalar tensors named in loss_names and more."""
        raise NotImplementedError

    def after_step(self, step: int, metrics: dict[str, float]) -> None:
        """Advance the per-step schedules; called once per optimizer step with its float metrics."""
        step_every_step(self.schedulers)

    def reset_ema(self) -> None:
        """Start the average afresh from the current weights (a fork that turns EMA on)."""
        self.ema = EMA(self.nets[self.ema_net], self.cfg.ema_decay)

    def after_quality_probe(self, fid: float) -> None:
        """Advance the schedules keyed on the quality probe (--scheduler plateau)."""
        step_on_quality(self.schedulers, fid)

    def learning_rates(self) -> dict[str, float]:
        return {f"lr_{name.lower()}": opt.param_groups[0]["lr"] for name, opt in self.optimizers.items()}

    @torch.no_grad()
    def sample_grid(self) -> torch.Tensor:
        """Images in [-1, 1] from fixed inputs, for the sample grids."""
        raise NotImplementedError

    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    # --- checkpoint state --------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {
            "nets": {k: m.state_dict() for k, m in self.nets.items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "ema": self.ema.state_dict() if self.ema else None,
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict, inference_only: bool = False) -> None:
        for k, m in self.nets.items():
            m.load_state_dict(state["nets"][k])
        if self.ema and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
        if inference_only:
            return
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        for k, s in self.schedulers.items():
            if k in state["schedulers"]:
                s.load_state_dict(state["schedulers"][k])
        self.load_extra_state(state.get("extra") or {})

    def parameter_count(self) -> dict[str, int]:
        return {k: sum(p.numel() for p in m.parameters()) for k, m in self.nets.items()}
