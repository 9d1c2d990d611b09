"""Cache build and cache load times for the 7,038 competition photos at 64 and 256 px.

Build = list, decode and write the uint8 cache (a fresh, empty cache directory). Load = a second
load_images call, which memory-maps it. Epoch = gathering every image once in shuffled batches of 64,
as the trainer indexes it (the file is then usually still in the page cache).

    python bench/data_cache.py [--data PATH_TO_photo_jpg] [--sizes 64 256]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_core.data import load_images  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gan-getting-started" / "photo_jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="Folder of photos (default: the competition's).")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    args = parser.parse_args()
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as cache_dir:
            start = time.perf_counter()
            built = load_images(args.data, size, cache_dir=cache_dir)
            build_s = time.perf_counter() - start
            start = time.perf_counter()
            loaded = load_images(args.data, size, cache_dir=cache_dir)
            open_s = time.perf_counter() - start
            start = time.perf_counter()
            for batch in torch.randperm(len(loaded)).split(64):
                loaded.images[batch]
            epoch_s = time.perf_counter() - start
            megabytes = built.images.numel() / 1e6
            print(f"{size:>4} px  {len(built)} images  {megabytes:7.0f} MB  build {build_s:6.2f} s "
                  f"({len(built) / build_s:5.0f} img/s)  load {open_s * 1e3:6.1f} ms  epoch {epoch_s:5.2f} s")


if __name__ == "__main__":
    main()
