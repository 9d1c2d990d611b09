"""`python -m gan_core sweep ...`: train every batch size x learning rate as its own run and write
<runs dir>/<sweep id>/sweep.csv; the same command again continues a killed or stopped sweep.
Prints the table, then the sweep folder last."""
from __future__ import annotations

import argparse
import time

from gan_core.cli.common import add_config_flags, cli_job, explicit_config_values
from gan_core.config import build_config

DEFAULT_KID_SAMPLES = 500  # gan_core.sweep's default; importing it here would load torch for --help
# Swept settings and the flags that set them instead of add_config_flags' own.
SWEPT_FLAGS = {"batch_size": "--batch-sizes", "lr_g": "--lrs", "lr_d": "--lrs", "run_id": "--sweep-id"}
SHOWN = ["batch_size", "lr", "state", "loss_g_final", "loss_d_final", "d_x_final", "d_g_z2_final",
         "images_per_s", "kid_mean", "kid_samples"]


def _list_of(kind, what):
    def parse(text: str):
        try:
            values = [kind(v) for v in text.split(",") if v.strip()]
        except ValueError:
            values = []
        if not values:
            raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {text!r}")
        return values
    return parse


def register(sub) -> None:
    p = sub.add_parser("sweep", help="train every batch size x learning rate combination and tabulate them")
    add_config_flags(p)
    for action in p._actions:  # hidden from --help, refused in run()
        if action.dest in SWEPT_FLAGS:
            action.help = argparse.SUPPRESS
    p.add_argument("--batch-sizes", type=_list_of(int, "batch sizes"), required=True,
                   help="Batch sizes to try, e.g. 32,64,100.")
    p.add_argument("--lrs", type=_list_of(float, "learning rates"), required=True,
                   help="Learning rates to try (each used for both G and D), e.g. 1e-4,2e-4,3e-4.")
    p.add_argument("--sweep-id", default=None,
                   help="Sweep name: its folder in the runs dir and its runs' prefix (default: sweep-timestamp). "
                        "Give an existing sweep's id to continue it.")
    p.add_argument("--kid-samples", type=int, default=DEFAULT_KID_SAMPLES,
                   help="Generated images per combination for KID against as many Monet paintings "
                        f"(all of them when fewer) (default: {DEFAULT_KID_SAMPLES}).")
    p.set_defaults(func=run)


def run(args) -> int:
    from gan_core.runs import load_sweep
    from gan_core.sweep import run_sweep  # imports torch; keep `--help` fast

    values = explicit_config_values(args)
    given = sorted({SWEPT_FLAGS[k] for k in values if k in SWEPT_FLAGS})
    if given:
        raise ValueError(f"a sweep sets batch size, learning rates and run ids itself: use {', '.join(given)}")
    if args.preset:
        values["preset"] = args.preset
    cfg = build_config(values)
    sweep_id = args.sweep_id or f"sweep-{time.strftime('%Y%m%d-%H%M%S')}"
    print(f"sweep {sweep_id}: batch sizes {args.batch_sizes} x learning rates {args.lrs}; KID on "
          f"{args.kid_samples} generated images against as many Monet paintings (all when fewer)")
    with cli_job() as (callbacks, control):
        folder = run_sweep(cfg, args.batch_sizes, args.lrs, sweep_id, args.kid_samples, callbacks, control)
    table = load_sweep(folder)
    if not table.empty:
        print(table[[c for c in SHOWN if c in table]].to_string(index=False))
    print(folder)
    return 0
