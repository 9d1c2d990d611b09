"""Competition export speed and memory: a DCGAN-64 run, trained a few steps on the Monet paintings,
exports 7,000 and then 10,000 images. Each export runs in its own process so that its peak RSS
is its own; "start RSS" is that process's peak just before export_zip (torch imported). CPU
seconds (user + system) show the cost apart from other load on the machine.

    python bench/export.py [--data PATH] [--steps 3] [--counts 7000 10000]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gan-getting-started"


def peak_rss_mb() -> float:
    """VmHWM: unlike getrusage's ru_maxrss, it is not inherited from the parent across fork/exec."""
    status = Path("/proc/self/status")
    if status.exists():
        line = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20  # bytes on macOS


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def export_in_this_process(run: str, count: int, out: str) -> None:
    from gan_core.export import export_zip

    start_rss, start_cpu = peak_rss_mb(), cpu_seconds()
    report = export_zip(run, count=count, out=out)
    print(json.dumps({"count": count, "seconds": report["seconds"], "images_per_s": count / report["seconds"],
                      "cpu_seconds": cpu_seconds() - start_cpu, "start_rss_mb": start_rss,
                      "peak_rss_mb": peak_rss_mb(),
                      "zip_mb": os.path.getsize(out) / 2 ** 20, "valid": report["validation"]["ok"]}))


def train_run(data: Path, steps: int, runs: str) -> Path:
    from gan_core.config import build_config
    from gan_core.trainer import train

    cfg = build_config(dict(data=str(data), domain="monet", model="dcgan", image_size=64, batch_size=64,
                            steps=steps, ema=True, sample_every=10_000, runs_dir=runs, run_id="bench"))
    return train(cfg).path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("GAN_STUDIO_DATA") or str(DEFAULT_DATA))
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--counts", type=int, nargs="+", default=[7000, 10_000])
    parser.add_argument("--child", nargs=3, metavar=("RUN", "COUNT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        export_in_this_process(args.child[0], int(args.child[1]), args.child[2])
        return

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run = train_run(Path(args.data), args.steps, tmp)
        print(f"DCGAN-64 run ({args.steps} steps, ngf/ndf 64, EMA) trained in {time.perf_counter() - t0:.0f} s; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        print(f"{'images':>7} {'seconds':>8} {'images/s':>9} {'CPU s':>6} {'start RSS':>10} {'peak RSS':>9} "
              f"{'zip MB':>7} valid")
        for count in args.counts:
            out = Path(tmp) / f"images_{count}.zip"
            child = subprocess.run([sys.executable, __file__, "--child", str(run), str(count), str(out)],
                                   capture_output=True, text=True, check=True)
            r = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"{count:>7} {r['seconds']:>8.1f} {r['images_per_s']:>9.0f} {r['cpu_seconds']:>6.0f} "
                  f"{r['start_rss_mb']:>7.0f} MB {r['peak_rss_mb']:>6.0f} MB {r['zip_mb']:>7.0f} {r['valid']}")
            out.unlink()


if __name__ == "__main__":
    main()
