"""DCGAN-64's fp32 training step against this CPU's fp32 convolution roofline.

    python bench/roofline.py [--steps 20] [--data PATH] [--repeats 3]

Roofline: the best fp32 GFLOP/s oneDNN reaches here on compute-bound convolutions (forward, batch 64,
the DCGAN's own widths and kernels and a 3x3 one, channels-last and contiguous): the ceiling the step's
convolutions could reach. Work: the PyTorch DCGAN tutorial step's FLOPs (D on real and fake images, G,
both backward passes, D's weight gradients in the G step included), counted by
torch.utils.flop_counter. A loop's rate is that work over its measured step time, so a loop that skips
work (the trainer skips D's weight gradients in the G step) is credited with the time it saves; the
trainer's own FLOPs per second (the arithmetic it really does) are printed beside it.
Each loop is timed `--repeats` times, alternating, and the best of each is kept (the least disturbed
by neighbours on shared cores).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import cpu_model  # noqa: E402
from bench.train_throughput import plain_loop, trainer_loop  # noqa: E402
from gan_core.config import build_config  # noqa: E402
from gan_core.models import build_model  # noqa: E402
from gan_core.networks.dcgan import DCGANDiscriminator, DCGANGenerator  # noqa: E402

BATCH = 64
# (input channels, side, output channels, kernel, stride): DCGAN-64 D's middle convolutions and a 3x3 one
ROOFLINE_CONVS = ((64, 32, 128, 4, 2), (128, 16, 256, 4, 2), (256, 8, 512, 4, 2), (256, 16, 256, 3, 1))


def conv_gflops_per_s(c_in: int, side: int, c_out: int, kernel: int, stride: int, layout, seconds: float = 1.0):
    x = torch.randn(BATCH, c_in, side, side).contiguous(memory_format=layout)
    conv = torch.nn.Conv2d(c_in, c_out, kernel, stride, padding=1).to(memory_format=layout)
    with torch.no_grad():
        out = conv(x)
        flops = 2 * out.numel() * c_in * kernel * kernel
        for _ in range(3):
            conv(x)
        runs, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            conv(x)
            runs += 1
    return flops * runs / (time.perf_counter() - t0) / 1e9


def roofline() -> tuple[float, str]:
    best, where = 0.0, ""
    for shape in ROOFLINE_CONVS:
        for layout in (torch.channels_last, torch.contiguous_format):
            rate = conv_gflops_per_s(*shape, layout)
            if rate > best:
                best, where = rate, f"conv {shape} {'channels-last' if layout is torch.channels_last else 'contiguous'}"
    return best, where


def tutorial_step_flops() -> int:
    """FLOPs of one step of the tutorial's loop (its networks, BCE, and Adam's update excluded)."""
    torch.manual_seed(0)
    G, D = DCGANGenerator(100, 3, 64), DCGANDiscriminator(3, 64)
    bce = torch.nn.BCEWithLogitsLoss()
    real = torch.randn(BATCH, 3, 64, 64)
    with FlopCounterMode(display=False) as counter:
        out = D(real)
        fake = G(torch.randn(BATCH, 100))
        out_fake = D(fake.detach())
        (bce(out, torch.ones_like(out)) + bce(out_fake, torch.zeros_like(out_fake))).backward()
        out = D(fake)
        bce(out, torch.ones_like(out)).backward()
    return counter.get_total_flops()


def trainer_step_flops(data: Path) -> int:
    """FLOPs of the engine's own fp32 DCGAN step (the configuration trainer_loop trains)."""
    from gan_core.trainer import load_training_images

    cfg = build_config(dict(data=str(data), model="dcgan", image_size=64, batch_size=BATCH, bf16="off"))
    images = load_training_images(cfg)
    model = build_model(cfg, images.channels, torch.device("cpu"))
    model.attach_data(images.select(cfg.domain))
    micro = [model.micro_batch(0, 0)]
    with FlopCounterMode(display=False) as counter:
        model.train_step(micro)
    return counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default=os.environ.get("GAN_STUDIO_DATA", "../shared/data/gan-getting-started"))
    args = parser.parse_args()
    data = Path(args.data)
    print(f"CPU: {cpu_model()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    work = tutorial_step_flops() / 1e9
    own = trainer_step_flops(data) / 1e9
    print(f"work: the tutorial step {work:.1f} GFLOP; the trainer's own step {own:.1f} GFLOP (batch {BATCH})")
    peaks, plain, trainer = [], [], []
    for _ in range(args.repeats):
        peaks.append(roofline())
        plain.append(plain_loop(data / "monet_jpg", args.steps))
        trainer.append(trainer_loop(data, args.steps, bf16="off"))
    peak, where = max(peaks)
    print(f"roofline: {peak:.1f} GFLOP/s fp32 ({where}); per repeat: "
          + ", ".join(f"{p:.1f}" for p, _ in peaks))
    print("| loop (fp32) | images/s | step s | GFLOP/s (tutorial work) | of roofline | own GFLOP/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, rates, flops in (("plain tutorial loop", plain, work), ("trainer", trainer, own)):
        ips = max(rates)
        step = BATCH / ips
        print(f"| {name} | {ips:.1f} | {step:.3f} | {work / step:.1f} | {work / step / peak:.0%} | "
              f"{flops / step:.1f} |")
    print("images/s per repeat: plain " + ", ".join(f"{r:.1f}" for r in plain)
          + "; trainer " + ", ".join(f"{r:.1f}" for r in trainer))


if __name__ == "__main__":
    main()
