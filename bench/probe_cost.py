"""What the quality probe costs beside training: seconds per probe against seconds per step, for a
trained run (its own settings), and the share of training time at each preset's quality_every.

    python bench/probe_cost.py --run runs/bench-quality/cut-cpu-preview --images 250

Seconds per step come from the run's metrics.jsonl (its median, so what the run saw).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.quality import cpu_model  # noqa: E402
from gan_core.config import TrainConfig, build_config, list_presets  # noqa: E402
from gan_core.models import load_model  # noqa: E402
from gan_core.quality import QualityProbe  # noqa: E402
from gan_core.runs import open_run  # noqa: E402
from gan_core.trainer import load_training_images  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--images", type=int, default=250)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    run = open_run(args.run)
    model, meta = load_model(run.path, "latest")
    cfg = TrainConfig.from_dict({**meta["config"].to_dict(), "quality_images": args.images})
    metrics = run.metrics()
    per_step = statistics.median(cfg.batch_size * cfg.accumulation_steps / r["images_per_s"] for r in metrics)
    started = time.perf_counter()
    probe = QualityProbe(cfg, load_training_images(cfg), model.device)
    setup = time.perf_counter() - started
    rows = [probe.measure(model, meta["step"]) for _ in range(args.repeats)]
    seconds = [r["seconds"] for r in rows]
    probe_s = min(seconds)
    print(f"CPU: {cpu_model()}")
    print(f"run {run.id} ({cfg.model}, {cfg.image_size} px): {per_step:.3f} s/step; probe of {args.images} images "
          f"{probe_s:.1f} s (runs {', '.join(f'{s:.1f}' for s in seconds)}), set-up {setup:.1f} s")
    for name, preset in list_presets().items():
        preset_cfg = build_config(preset=name)
        if preset_cfg.model == cfg.model and preset_cfg.quality_every:
            share = probe_s / (probe_s + preset_cfg.quality_every * per_step)
            print(f"  preset {name}: quality_every {preset_cfg.quality_every} -> probe {100 * share:.1f}% of the time")
    print(f"  probe: FID {rows[0]['fid']:.1f}, KID {1000 * rows[0]['kid_mean']:.1f}e-3, diversity "
          f"{rows[0]['diversity']:.2f}, input distance {rows[0]['input_distance']}")
    print(json.dumps({"run": run.id, "s_per_step": per_step, "probe_s": probe_s, "images": args.images}))


if __name__ == "__main__":
    main()
