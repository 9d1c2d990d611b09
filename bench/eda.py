"""Dataset EDA statistics over every image, with the decoded cache not built yet and built.

"cold" decodes the dataset into a fresh temporary cache, then computes the statistics; "warm"
repeats the call, reading that cache. Each is timed end to end (wall and CPU seconds), the
statistics alone reported apart. The load average is printed because the 2 cores are usually
shared: on a busy machine the CPU seconds say more than the wall time. The statistics are numpy, one
thread per op, and import no torch (as on the studio's page), so neither does this bench.

    python bench/eda.py [--data PATH] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_core import eda  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = os.environ.get("GAN_STUDIO_DATA") or str(REPO.parent / "shared" / "data" / "gan-getting-started")


def timed(path: str, cache_dir: str) -> tuple[float, float, eda.DatasetStats]:
    """(wall seconds, CPU seconds of this process, the statistics)."""
    wall, cpu = time.perf_counter(), time.process_time()
    stats = eda.analyse(path, cache_dir=cache_dir)
    return time.perf_counter() - wall, time.process_time() - cpu, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="default: $GAN_STUDIO_DATA, then ../shared")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs (the best is reported)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as cache_dir:
        print(f"load average before: {os.getloadavg()[0]:.1f}, torch imported: {'torch' in sys.modules}")
        cold, cold_cpu, stats = timed(args.data, cache_dir)
        images = sum(d.count for d in stats.domains.values())
        print(f"{images} images ({', '.join(f'{n}: {d.count}' for n, d in stats.domains.items())}) "
              f"at {stats.analysis_size} px")
        print(f"cold (decode into a new cache + statistics): {cold:.1f} s wall, {cold_cpu:.1f} s CPU; "
              f"statistics {stats.seconds:.1f} s wall")
        warm = [timed(args.data, cache_dir) for _ in range(args.repeats)]
        wall, cpu, best = min(warm, key=lambda result: result[0])
        print(f"warm (cache built), best of {args.repeats}: {wall:.1f} s wall, {cpu:.1f} s CPU; statistics "
              f"{best.seconds:.1f} s wall (all walls: {', '.join(f'{w:.1f}' for w, _, _ in warm)})")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"load average after: {os.getloadavg()[0]:.1f}, peak resident memory: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
