"""Trainer throughput vs a plain tutorial-style loop, DCGAN-64, batch 64, on the 300 Monet paintings.

The plain loop is what the PyTorch DCGAN tutorial does: torchvision ImageFolder + DataLoader
(2 workers) + Resize/CenterCrop/ToTensor/Normalize every step, same networks, BCE, Adam.
Both are timed over the same number of optimizer steps after one warm-up step, in one process.
Also: cache build time and one epoch from the cache for the 7,038 photos.

    python bench/train_throughput.py [--steps 20] [--data PATH]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_core.config import build_config  # noqa: E402
from gan_core.networks.dcgan import DCGANDiscriminator, DCGANGenerator  # noqa: E402
from gan_core.networks.init import dcgan_init  # noqa: E402
from gan_core.trainer import train  # noqa: E402


def plain_loop(monet_dir: Path, steps: int, batch: int = 64) -> float:
    import torchvision.datasets as dset
    import torchvision.transforms as T

    with tempfile.TemporaryDirectory() as root:
        os.symlink(monet_dir, Path(root) / "monet")
        data = dset.ImageFolder(root, transform=T.Compose([
            T.Resize(64), T.CenterCrop(64), T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)]))
        loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, num_workers=2, drop_last=True,
                                             persistent_workers=True)
        torch.manual_seed(0)
        G, D = DCGANGenerator(100, 3, 64), DCGANDiscriminator(3, 64)
        dcgan_init(G), dcgan_init(D)
        opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
        bce = torch.nn.BCEWithLogitsLoss()
        done, t0 = 0, None
        while done < steps + 1:
            for real, _ in loader:
                D.zero_grad()
                out = D(real)
                err_real = bce(out, torch.ones_like(out))
                fake = G(torch.randn(batch, 100))
                out = D(fake.detach())
                err_fake = bce(out, torch.zeros_like(out))
                (err_real + err_fake).backward()
                opt_d.step()
                G.zero_grad()
                out = D(fake)
                bce(out, torch.ones_like(out)).backward()
                opt_g.step()
                done += 1
                if done == 1:
                    t0 = time.perf_counter()  # after warm-up (workers started, first batch)
                if done == steps + 1:
                    break
        return steps * batch / (time.perf_counter() - t0)


def trainer_loop(data: Path, steps: int, bf16: bool, batch: int = 64) -> float:
    times = []

    def on_event(e):
        if e.kind == "step":
            times.append(time.perf_counter())
    with tempfile.TemporaryDirectory() as runs:
        cfg = build_config(dict(data=str(data), model="dcgan", image_size=64, batch_size=batch, steps=steps + 1,
                                sample_every=10_000, checkpoint_every=10_000, runs_dir=runs, run_id="bench",
                                bf16=bf16))
        train(cfg, callbacks=[on_event])
    return steps * batch / (times[-1] - times[0])


def photo_cache(data: Path) -> None:
    from gan_core.data import load_images

    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        photos = load_images(data, 64, cache_dir=cache).select("photo")
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        photos = load_images(data, 64, cache_dir=cache).select("photo")
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        order = torch.randperm(len(photos))
        for i in range(0, len(photos) - 63, 64):
            batch = photos.images[order[i:i + 64].sort().values].float().div_(127.5).sub_(1)
        epoch = time.perf_counter() - t0
    print(f"photo cache, 64 px: build {build:.1f} s (decode all 7,338 images), load {load:.2f} s, "
          f"one epoch of {len(photos)} photos from cache {epoch:.2f} s (batches {tuple(batch.shape)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--data", default=os.environ.get("GAN_STUDIO_DATA", "../shared/data/gan-getting-started"))
    args = parser.parse_args()
    data = Path(args.data)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.steps} timed steps, batch 64")
    plain = plain_loop(data / "monet_jpg", args.steps)
    fp32 = trainer_loop(data, args.steps, bf16=False)
    results = [("plain tutorial loop (ImageFolder+DataLoader, fp32)", plain), ("trainer, fp32", fp32)]
    from gan_core.device import bf16_supported
    if bf16_supported(torch.device("cpu")):
        results.append(("trainer, bf16 autocast", trainer_loop(data, args.steps, bf16=True)))
    for name, ips in results:
        print(f"{name:55s} {ips:8.1f} images/s   {ips / plain:5.2f}x plain")
    photo_cache(data)


if __name__ == "__main__":
    main()
