"""Image quality at a fixed CPU budget: train each preset (and variants) for the number of steps it
makes in --budget-min on this machine, export 1,000 images (translation models: the first 1,000
photos by file name, translated; noise models: 1,000 samples), and score them with FID/KID/MiFID
and the memorisation distance against the 300 Monet paintings, beside the untouched photos' score.

    python bench/quality.py --presets cut-cpu-preview,fastcut-cpu-preview,cpu-preview --budget-min 45
    python bench/quality.py --presets cut-cpu-preview --set generator=resnet --label resnet
    python bench/quality.py --run runs/bench-quality/cut-cpu-preview --export-options   # export choices
    python bench/quality.py --presets fastgan-cpu-preview,dcgan-cpu-preview --budget-min 30
    python bench/quality.py --run runs/bench-quality/dcgan-cpu-preview --export-options --variants copied-statistics

The step count is fixed from a timing of --timing-steps steps first (alone on the machine), so a
noisy machine changes the wall time, not the work. Runs go to $GAN_STUDIO_RUNS/bench-quality;
every result row is appended to bench-quality.jsonl there and printed as a Markdown table.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see bench/cyclegan_throughput.py

import argparse
import json
import shutil
import sys
import time
import zipfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import cpu_model  # noqa: E402
from gan_core import checkpoint  # noqa: E402
from gan_core.config import build_config, default_data_path  # noqa: E402
from gan_core.estimate import estimate_training  # noqa: E402
from gan_core.export import export_zip  # noqa: E402
from gan_core.metrics import evaluate  # noqa: E402
from gan_core.models.noise_gan import NoiseGAN  # noqa: E402
from gan_core.networks.unet_generator import UnetGenerator  # noqa: E402
from gan_core.runs import Run, runs_root  # noqa: E402
from gan_core.trainer import train  # noqa: E402

SCORED = 1000
# Each export choice, scored beside the run's default export (gan_core.export_options' defaults).
EXPORT_VARIANTS = {
    "training": dict(resolution="training"), "native": dict(resolution="native"), "tta-flip": dict(tta="flip"),
    "native-flip": dict(resolution="native", tta="flip"), "444": dict(subsampling="444"),
    "420": dict(subsampling="420"), "fp32": dict(fp32=True), "live-G": dict(live_g=True),
    # JPEG quality: the competition's paintings and photos are quality-75 JPEGs.
    **{f"q{q}": dict(quality=q) for q in (50, 65, 75, 85, 95)},
    # Noise models: the EMA generator with the live generator's BatchNorm statistics copied (as before
    # standing statistics), against the default (statistics measured for the EMA weights).
    "copied-statistics": dict(copied_statistics=True),
    # U-Nets down to 1x1 with resize-convs: the innermost decoder step, untrained (zero at the training
    # size), switched off at export as it was in training.
    "innermost-off": dict(innermost_off=True),
    # Colour calibration toward the paintings (gan_core.colour), against the same 300 paintings; and
    # held out: the table from every other painting, scored against the other half only.
    "mean-std": dict(colour="mean-std"), "histogram": dict(colour="histogram"),
    **{f"heldout-{c}": dict(colour=c, heldout=True) for c in ("none", "mean-std", "histogram")},
}


def parse_set(pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        for kind in (int, float):
            try:
                values[key] = kind(raw)
                break
            except ValueError:
                continue
        else:
            values[key] = {"true": True, "false": False}.get(raw.lower(), raw)
    return values


def seconds_per_step(cfg, steps: int) -> float:
    """Median wall time of `steps` optimizer steps after 3 warm-up steps (gan_core.estimate)."""
    return estimate_training(cfg, timed_steps=steps, warmup_steps=3).seconds_per_step


def fixed_budget_config(preset: str, overrides: dict, steps: int):
    """The preset with its schedule squeezed into `steps`: the same share of linear decay."""
    cfg = build_config(overrides, preset=preset)
    steps_per_epoch = max(1, (cfg.epoch_size or 300) // cfg.batch_size)
    epochs = max(1, round(steps / steps_per_epoch))
    decay = round(epochs * cfg.decay_epochs / cfg.epochs) if cfg.epochs else 0
    return build_config({**overrides, "steps": steps, "epochs": epochs, "decay_epochs": decay}, preset=preset)


def photo_baseline_zip(data: Path, out: Path) -> Path:
    """The first SCORED photo files by name, untouched, as a zip to score."""
    if not out.exists():
        files = sorted((data / "photo_jpg").glob("*.jpg"))[:SCORED]
        with zipfile.ZipFile(out, "w") as z:
            for f in files:
                z.write(f, f.name)
    return out


def photo_baseline(data: Path, root: Path) -> dict:
    """The untouched photos' score (computed once, then read back)."""
    saved = root / "photos-1000.json"
    if saved.exists():
        return json.loads(saved.read_text())
    row = {"label": "untouched photos", **score(photo_baseline_zip(data, root / "photos-1000.zip"), data)}
    saved.write_text(json.dumps(row))
    record(root, row)
    return row


def painting_halves(data: Path, root: Path) -> tuple[Path, Path]:
    """The paintings sorted by name, split alternately into two folders: one to calibrate colours
    on, one to score against."""
    halves = root / "monet-halves" / "calibrate", root / "monet-halves" / "score"
    if not halves[1].exists():
        files = sorted((data / "monet_jpg").glob("*.jpg"))
        for half, chosen in zip(halves, (files[0::2], files[1::2])):
            half.mkdir(parents=True, exist_ok=True)
            for f in chosen:
                shutil.copyfile(f, half / f.name)
    return halves


def score(images: Path, data: Path, reference: Path | None = None) -> dict:
    result = evaluate(images, reference=reference or data / "monet_jpg")
    return {k: result[k] for k in ("fid", "kid_mean", "kid_std", "mifid", "memorisation_distance", "n_generated")}


def without_ema(run: Run) -> Path:
    """A copy of the run's latest checkpoint without its EMA, so export uses the live generator."""
    ckpt = checkpoint.load(run.latest_checkpoint())
    ckpt["config"] = {**ckpt["config"], "ema": False}
    ckpt["state"]["ema"] = None
    return checkpoint.save_atomic(ckpt, run.path / "exports" / "bench-live-G.pt")


def export_and_score(run: Run, data: Path, label: str, **options) -> dict:
    out = run.path / "exports" / f"bench-{label}.zip"
    if options.pop("live_g", False):
        options["checkpoint"] = without_ema(run)
    reference = None
    if options.pop("heldout", False):
        options["colour_reference"], reference = painting_halves(data, run.path.parent)
        default = run.path / "exports" / "bench-default.zip"
        if options.get("colour", "none") == "none" and default.exists():  # the same images: score them again
            return {"step": None, "export": {"colour": "none", "reused": str(default)},
                    **score(default, data, reference)}
    copied = options.pop("copied_statistics", False)
    NoiseGAN.standing_statistics = not copied
    original_init = UnetGenerator.__init__
    if options.pop("innermost_off", False):
        def init_with_hook(G, *args, **kwargs):
            original_init(G, *args, **kwargs)
            G.up[0].register_forward_hook(lambda module, inputs, output: torch.zeros_like(output))
        UnetGenerator.__init__ = init_with_hook
    try:
        report = export_zip(run, count=SCORED, out=out, **options)
    finally:
        NoiseGAN.standing_statistics = True
        UnetGenerator.__init__ = original_init
    return {"step": report["step"], "export": {k: str(v) for k, v in options.items()},
            **score(out, data, reference)}


def record(root: Path, row: dict) -> None:
    with open(root / "bench-quality.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)


def table(rows: list[dict]) -> str:
    lines = ["| what | steps | train min | FID | KID x1000 | MiFID | memorisation |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        kid = f"{1000 * r['kid_mean']:.1f} ± {1000 * r['kid_std']:.1f}"
        minutes = f"{r['train_s'] / 60:.1f}" if r.get("train_s") else ""
        lines.append(f"| {r['label']} | {r.get('steps', '')} | {minutes} | {r['fid']:.1f} | {kid} | {r['mifid']:.1f} | "
                     f"{r['memorisation_distance']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--presets", default="", help="comma-separated presets to train and score")
    p.add_argument("--set", nargs="*", default=[], help="overrides for every preset, key=value")
    p.add_argument("--label", default="", help="suffix for the run ids and table rows")
    p.add_argument("--budget-min", type=float, default=45.0, help="training budget per preset, minutes")
    p.add_argument("--steps", type=int, default=0, help="fixed step count (skips the timing)")
    p.add_argument("--timing-steps", type=int, default=20)
    p.add_argument("--time-only", action="store_true", help="print the fixed step counts and stop")
    p.add_argument("--run", default="", help="an existing run to score instead of training one")
    p.add_argument("--export-options", action="store_true",
                   help="also score each export choice (resolution, tta, subsampling, fp32) of the run")
    p.add_argument("--variants", default=",".join(EXPORT_VARIANTS),
                   help=f"export choices scored with --export-options: {', '.join(EXPORT_VARIANTS)}")
    p.add_argument("--data", default=default_data_path())
    args = p.parse_args()

    data = Path(args.data)
    root = runs_root(None) / "bench-quality"
    root.mkdir(parents=True, exist_ok=True)
    print(f"CPU: {cpu_model()}", flush=True)
    rows = [photo_baseline(data, root)]
    runs = [Run(Path(args.run))] if args.run else []
    for preset in filter(None, args.presets.split(",")):
        run_id = preset + (f"-{args.label}" if args.label else "")
        overrides = {**parse_set(args.set), "data": str(data), "runs_dir": str(root), "run_id": run_id}
        steps = args.steps
        if not steps:
            per_step = seconds_per_step(build_config(overrides, preset=preset), args.timing_steps)
            steps = int(args.budget_min * 60 / per_step)
            print(f"{run_id}: {per_step:.3f} s/step -> {steps} steps in {args.budget_min:g} min", flush=True)
            if args.time_only:
                continue
        cfg = fixed_budget_config(preset, overrides, steps)
        started = time.perf_counter()
        run = train(cfg)
        row = {"label": run_id, "steps": steps, "train_s": time.perf_counter() - started,
               "cpu": cpu_model(), "config": {k: v for k, v in cfg.to_dict().items() if k != "data"},
               **export_and_score(run, data, "default")}
        record(root, row)
        rows.append(row)
        runs.append(run)
    for run in runs:
        if args.run and not args.export_options:
            row = {"label": f"{run.path.name}", **export_and_score(run, data, "default")}
            record(root, row)
            rows.append(row)
        if args.export_options:
            for label in args.variants.split(","):
                options = EXPORT_VARIANTS[label]
                row = {"label": f"{run.path.name} export {label}", **export_and_score(run, data, label, **options)}
                record(root, row)
                rows.append(row)
    print(table(rows))


if __name__ == "__main__":
    main()
