"""Exponential moving average of generator weights (Karras et al.): smoother samples for free.

The decay ramps up as min(decay, (1 + n) / (10 + n)) over the first updates n, so the average
follows the generator early on instead of staying near its random initialisation (with a fixed
0.999, 78% of the initial weights would still be in the average after 250 steps).
"""
import copy
from collections.abc import Iterable

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


class EMA:
    def __init__(self, model: nn.Module, decay: float = 0.999):
        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    def current_decay(self) -> float:
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        weight = 1.0 - self.current_decay()
        for ema_p, p in zip(self.model.parameters(), model.parameters()):
            ema_p.lerp_(p.detach(), weight)
        # BatchNorm running statistics are copied, not averaged: they already are averages.
        for ema_b, b in zip(self.model.buffers(), model.buffers()):
            ema_b.copy_(b)
        self.updates += 1

    def state_dict(self) -> dict:
        return {"weights": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["weights"])
        self.updates = int(state["updates"])


@torch.no_grad()
def standing_statistics(net: nn.Module, inputs: Iterable[torch.Tensor]) -> None:
    """BatchNorm running statistics measured for these weights (BigGAN's "standing statistics"):
    reset, then a cumulative average over forward passes of `inputs` in train mode.

    An averaged generator's weights are not the live generator's, so the live statistics copied
    in update() do not describe its activations; sampling and export use these instead.
    """
    norms = [m for m in net.modules() if isinstance(m, _BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    was_training = net.training
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: every batch counts the same
    net.train()
    try:
        for x in inputs:
            net(x)
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        net.train(was_training)
