"""CycleGAN throughput of the `cpu-preview` preset on this machine: training steps/s, and photos/s of
translation at a few batch sizes extrapolated to the competition's 7,038 photos (JPEG encoding
included); each in fp32 and, where the CPU has it, bf16 autocast.

    python bench/cyclegan_throughput.py [--data PATH] [--steps 5] [--photos 128] [--threads N]

Weights are untrained (throughput does not depend on them). Each figure is given in wall-clock
time and per CPU-second: on shared cores the wall figure depends on the neighbours' load, while
CPU time x threads estimates what idle cores would do (assuming perfect scaling over threads).
"""
from __future__ import annotations

import os

# Busy-waiting OpenMP threads on oversubscribed shared cores cost 2-10x the work itself; passive
# waiting changes nothing on idle cores. Must be set before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import dataclasses
import io
import sys
import time
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_core.config import build_config, default_data_path  # noqa: E402
from gan_core.data import load_images
from gan_core.device import bf16_supported
from gan_core.models.cyclegan import CycleGAN
from gan_core.translate import translate_images

COMPETITION_PHOTOS = 7038


class Timer:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def bench_training(cfg, data, steps: int, warmup: int, threads: int) -> CycleGAN:
    """Time `steps` optimizer steps after `warmup` ones; returns the model."""
    model = CycleGAN(cfg, data.channels, torch.device("cpu"))
    model.attach_data(data)
    for index in range(warmup):
        model.train_step([model.micro_batch(0, index)])
    with Timer() as t:
        for index in range(warmup, warmup + steps):
            model.train_step([model.micro_batch(0, index)])
            model.after_step(index + 1, {})
    print(f"train {'bf16' if model.bf16 else 'fp32'}: {steps / t.wall:.2f} steps/s wall ({t.wall / steps:.2f} s/step), "
          f"{threads * steps / t.cpu:.2f} steps/s on {threads} idle cores ({t.cpu / steps:.2f} CPU-s/step)")
    return model


def jpeg_seconds(images: torch.Tensor) -> tuple[float, float]:
    """(wall, CPU) seconds to encode one uint8 [3, H, W] image as translate_path does."""
    with Timer() as t:
        for image in images:
            Image.fromarray(image.permute(1, 2, 0).numpy()).save(io.BytesIO(), format="JPEG", quality=95)
    return t.wall / len(images), t.cpu / len(images)


def bench_translation(model: CycleGAN, photos: torch.Tensor, batch_sizes: list[int], threads: int,
                      bf16: bool) -> None:
    n = len(photos)
    for batch_size in batch_sizes:
        next(translate_images(model, photos[:batch_size], batch_size=batch_size, bf16=bf16))  # warm-up
        with Timer() as t:
            outputs = torch.cat(list(translate_images(model, photos, batch_size=batch_size, bf16=bf16)))
        jpeg_wall, jpeg_cpu = jpeg_seconds(outputs[:32])
        wall_minutes = COMPETITION_PHOTOS * (t.wall / n + jpeg_wall) / 60
        idle_minutes = COMPETITION_PHOTOS * (t.cpu / n + jpeg_cpu) / threads / 60
        print(f"translate {'bf16' if bf16 else 'fp32'} batch {batch_size:>2}: {n / t.wall:5.1f} photos/s wall, "
              f"{threads * n / t.cpu:5.1f} on {threads} idle cores; all {COMPETITION_PHOTOS} as JPEGs "
              f"(extrapolated): {wall_minutes:4.1f} min wall, {idle_minutes:4.1f} min idle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=default_data_path(), help="competition folder or zip")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps (after 2 warm-up steps)")
    parser.add_argument("--photos", type=int, default=128, help="photos translated per setting")
    parser.add_argument("--batch-sizes", default="1,16", help="translation batch sizes, comma separated")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    preview = build_config({"data": args.data, "device": "cpu"}, preset="cpu-preview")
    data = load_images(preview.data, preview.image_size)
    photos = data.select("photo").images[:args.photos]
    print(f"cpu-preview: ResNet-{preview.n_blocks}, ngf {preview.ngf}, ndf {preview.ndf}, {preview.image_size} px, "
          f"batch {preview.batch_size}; {args.threads} threads")
    for bf16 in [False, True] if bf16_supported(torch.device("cpu")) else [False]:
        cfg = dataclasses.replace(preview, bf16="on" if bf16 else "off")
        model = bench_training(cfg, data, args.steps, 2, args.threads)
        bench_translation(model, photos, [int(b) for b in args.batch_sizes.split(",")], args.threads, bf16)

if __name__ == "__main__":
    main()
