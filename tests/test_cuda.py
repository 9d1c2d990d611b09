"""On a CUDA GPU (skipped elsewhere): one bf16 training step of every model, checkpoints that load
on the CPU, and GPU translation that agrees with the CPU's. bench/gpu_check.sh runs these."""
from __future__ import annotations

import math

import pytest
import torch

from gan_core.config import MODELS, build_config
from gan_core.models import load_model
from gan_core.trainer import train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

TINY = {
    "mlp": dict(image_size=32, batch_size=8),
    "dcgan": dict(image_size=64, batch_size=8, ema=True),
    "fastgan": dict(image_size=64, ngf=8, ndf=8, batch_size=4),
    "cyclegan": dict(image_size=64, n_blocks=2, batch_size=2, epoch_size=8),
    "cut": dict(image_size=64, n_blocks=2, batch_size=2, epoch_size=8),
    "fastcut": dict(image_size=64, generator="unet", upsample="resize", batch_size=2, epoch_size=8),
}


@pytest.mark.parametrize("model", MODELS)
def test_bf16_step_on_cuda(model, competition_data, runs_dir):
    cfg = build_config(dict(model=model, data=str(competition_data), ngf=16, ndf=16, steps=2, bf16="on",
                            diffaugment=True, device="cuda", runs_dir=str(runs_dir), run_id=model, **TINY[model]))
    run = train(cfg)
    assert run.status()["state"] == "finished", run.status()
    for row in run.metrics():
        assert all(math.isfinite(v) for k, v in row.items() if k.startswith("loss")), row
    cpu_model, meta = load_model(run.path, device="cpu")
    assert meta["step"] == 2
    if hasattr(cpu_model, "translate"):
        gpu_model, _ = load_model(run.path, device="cuda")
        photos = torch.rand(2, 3, 64, 64) * 2 - 1
        gap = (gpu_model.translate(photos.cuda()).cpu() - cpu_model.translate(photos)).abs().max()
        assert gap < 1e-2, f"GPU and CPU translations differ by {gap}"
