"""Training on several processes with PyTorch's own engine: `torchrun ... -m gan_core train ...`.

torchrun starts one process per GPU (or several on the CPU) and describes each one through the
WORLD_SIZE, RANK and LOCAL_RANK environment variables. Every process runs the same loop on its
own shard of each epoch; DistributedDataParallel averages the gradients, so the networks stay
identical. Rank 0 alone writes the run directory. Without these variables (or with a world of
one) nothing here does anything, and training is exactly the single-process one.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Distributed:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block before the others (e.g. builds a cache the others then read)."""
        if not self.is_main:
            self.barrier()
        yield
        if self.is_main:
            self.barrier()

    def from_main(self, value):
        """Rank 0's value on every rank (e.g. a name made from the clock)."""
        if not self.enabled:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0, device=self._collective_device)
        return box[0]

    def mean(self, values: dict) -> dict[str, float]:
        """Scalars averaged over the ranks, so what is logged describes the global batch."""
        if not self.enabled:
            return {k: float(v) for k, v in values.items()}
        stacked = torch.stack([torch.as_tensor(v, dtype=torch.float64).to(self._collective_device)
                               for v in values.values()])
        dist.all_reduce(stacked)
        return dict(zip(values, (stacked / self.world_size).tolist()))

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on one: ranks must stop at the same step."""
        if not self.enabled:
            return flag
        t = torch.tensor([int(flag)], device=self._collective_device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def reseed(self, seed: int, step: int) -> None:
        """Different noise on every rank, drawn from (seed, rank, step) alone: a resumed run draws
        what the uninterrupted one would have, without saving each rank's RNG state."""
        if self.enabled:
            torch.manual_seed((seed * 1_000_003 + self.rank) * 1_000_003 + step)

    @property
    def _collective_device(self) -> torch.device:
        return self.device if self.device.type == "cuda" else torch.device("cpu")


def from_env() -> tuple[int, int, int]:
    """(rank, local_rank, world_size) as torchrun sets them; (0, 0, 1) outside torchrun."""
    return (int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)),
            int(os.environ.get("WORLD_SIZE", 1)))


def is_main_process() -> bool:
    return from_env()[0] == 0


@contextlib.contextmanager
def process_group(device: torch.device) -> Iterator[Distributed]:
    """Join torchrun's process group for the block (nccl on CUDA, one GPU per process by
    LOCAL_RANK; gloo on the CPU), and leave it afterwards unless the caller had joined it already."""
    rank, local_rank, world_size = from_env()
    if world_size == 1:
        yield Distributed(0, 0, 1, device)
        return
    if device.type == "cuda":
        device, backend = torch.device("cuda", local_rank), "nccl"
        torch.cuda.set_device(device)
    elif device.type == "cpu":
        backend = "gloo"
    else:
        raise ValueError(f"training on several processes needs CUDA (nccl) or the CPU (gloo), not "
                         f"{device.type}: pass --device cuda or --device cpu")
    joined_here = not dist.is_initialized()
    if joined_here:
        dist.init_process_group(backend, device_id=device if backend == "nccl" else None)
    try:
        yield Distributed(rank, local_rank, world_size, device)
    finally:
        if joined_here:
            dist.destroy_process_group()
