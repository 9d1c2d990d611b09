"""Scoring cost on this machine: reference features, generated images, evaluate()'s overhead.

1. Reference features for the 300 Monet paintings, from an empty cache (weights conversion timed apart).
2. A bare Inception forward (pool features only) over N photos already decoded in memory.
3. evaluate() on the same N photos with the reference cached: decoding, the forward, FID, KID,
   MiFID and the memorisation report. Per 1,000 images is extrapolated linearly from N.

    python bench/evaluate.py [--n 200] [--data PATH] [--device cpu]
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

from gan_core.config import default_data_path  # noqa: E402
from gan_core.device import select_device  # noqa: E402
from gan_core.metrics import evaluate  # noqa: E402
from gan_core.metrics.feature_cache import cached_features  # noqa: E402
from gan_core.metrics.inception import POOL, extract, load_extractor, resolve_weights  # noqa: E402
from gan_core.metrics.sources import open_images  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="photos scored as the generated set")
    parser.add_argument("--data", default=default_data_path(), help="folder holding monet_jpg/ and photo_jpg/")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    data, device = Path(args.data), select_device(args.device)
    print(f"device {device}, torch threads {torch.get_num_threads()}, N = {args.n}")

    with tempfile.TemporaryDirectory() as cache:
        os.environ["GAN_STUDIO_CACHE"] = cache
        t0 = time.perf_counter()
        weights = resolve_weights()
        print(f"weights ({weights.source}) ready in {time.perf_counter() - t0:.1f}s")
        extractor = load_extractor(weights, device)
        batch_size = 32 if device.type == "cuda" else 8

        reference = open_images(data / "monet_jpg")
        t0 = time.perf_counter()
        cached_features(reference, weights,
                        lambda: extract(reference.batches(batch_size), len(reference), extractor)[POOL])
        ref_s = time.perf_counter() - t0
        print(f"reference features, {len(reference)} Monet: {ref_s:.1f}s ({len(reference) / ref_s:.2f} images/s)")

        photos = open_images(data / "photo_jpg").sample(args.n)
        decoded = list(photos.batches(batch_size))
        t0 = time.perf_counter()
        with torch.no_grad():
            for images in decoded:
                extractor(torch.stack(images).to(device))
        bare_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        result = evaluate(data / "photo_jpg", data / "monet_jpg", max_images=args.n, device=args.device)
        eval_s = time.perf_counter() - t0

    print(f"bare Inception forward, {args.n} photos: {bare_s:.1f}s ({args.n / bare_s:.2f} images/s)")
    print(f"evaluate(), {args.n} photos, reference cached: {eval_s:.1f}s ({args.n / eval_s:.2f} images/s)")
    print(f"per 1,000 generated images (extrapolated from {args.n}): {eval_s * 1000 / args.n:.0f}s")
    print(f"evaluate() / bare forward: {eval_s / bare_s:.2f}x")
    print(f"FID of {args.n} photos vs Monet: {result['fid']:.2f} (KID {result['kid_mean']:.4f}, "
          f"MiFID {result['mifid']:.2f}, memorisation distance {result['memorisation_distance']:.3f})")


if __name__ == "__main__":
    main()
