"""Helpers shared by CLI commands: config flags generated from TrainConfig, tqdm progress, signals."""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import signal

from tqdm import tqdm

from gan_core.config import TrainConfig, config_fields
from gan_core.events import Control, Event

# The headline losses shown in the progress bar (CycleGAN reports ten loss terms).
PROGRESS_LOSSES = ("loss_d", "loss_g", "loss_D", "loss_G")

CHECKPOINT_HELP = ("best (the quality probe's best, checkpoints/best.pt), latest, a file name in the run's "
                   "checkpoints/ or a path (default: latest)")

# Flags whose names differ from the field name, or that are positional elsewhere.
_SKIP = {"preset"}
# Choice flags that may also be given bare, and the value that means (bf16 was an on/off switch).
_BARE = {"bf16": "on"}


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field (lr_g -> --lr-g), all defaulting to None so that only the
    flags a user typed override the preset and the defaults."""
    parser.add_argument("--preset", default=None, help="Named preset from assets/presets.")
    for f in config_fields():
        if f.name in _SKIP:
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata['help']} (default: {f.default})"
        if f.type in ("bool", bool):
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                                help=help_text)
        else:
            kind = {"int": int, "float": float, "str": str}[f.type if isinstance(f.type, str) else f.type.__name__]
            bare = {"nargs": "?", "const": _BARE[f.name]} if f.name in _BARE else {}
            parser.add_argument(flag, dest=f.name, type=kind, default=None, choices=f.metadata.get("choices"),
                                help=help_text, **bare)


def add_photo_options(parser: argparse.ArgumentParser, native_size: str, none_by_default: bool = False) -> None:
    """--resolution, --tta, --subsampling, --quality and --colour, defaulting to gan_core.export_options' defaults
    (resolution and tta to None with none_by_default: the command picks per model kind)."""
    from gan_core.export_options import (COLOURS, DEFAULT_COLOUR, DEFAULT_RESOLUTION, DEFAULT_SUBSAMPLING, DEFAULT_TTA,
                                         JPEG_QUALITY, RESOLUTIONS, SUBSAMPLINGS, TTAS)

    parser.add_argument("--resolution", choices=RESOLUTIONS, default=None if none_by_default else DEFAULT_RESOLUTION,
                        help=f"translation models: 'native' loads and translates the photos at {native_size}, "
                             f"'training' at the run's image_size, then resizes (default: {DEFAULT_RESOLUTION})")
    parser.add_argument("--tta", choices=TTAS, default=None if none_by_default else DEFAULT_TTA,
                        help=f"translation models: 'flip' averages each translation with the mirrored translation "
                             f"of the mirrored photo (twice the work; default: {DEFAULT_TTA})")
    parser.add_argument("--subsampling", choices=tuple(SUBSAMPLINGS), default=DEFAULT_SUBSAMPLING,
                        help=f"JPEG chroma subsampling: 444 keeps full colour resolution, 420 halves it "
                             f"(default: {DEFAULT_SUBSAMPLING})")
    parser.add_argument("--quality", type=int, default=JPEG_QUALITY,
                        help=f"JPEG quality, 1 to 100 (default: {JPEG_QUALITY}, as the competition's own JPEGs; it "
                             f"scored better than 95, bench/RESULTS.md)")
    parser.add_argument("--colour", choices=COLOURS, default=DEFAULT_COLOUR,
                        help="move the images' colours toward the run's Monet paintings with one table per RGB "
                             "channel, computed from the first 512 images: 'mean-std' matches each channel's mean "
                             "and spread, 'histogram' its whole histogram (default: %(default)s)")


def explicit_config_values(args: argparse.Namespace) -> dict:
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


class TqdmProgress:
    """Turns trainer/job events into a tqdm bar on stderr."""

    def __init__(self, desc: str = "train"):
        self.desc, self.bar = desc, None

    def __call__(self, event: Event) -> None:
        d = event.data
        if event.kind == "start":
            self.bar = tqdm(total=d["total_steps"], initial=d.get("resumed_from", 0), desc=self.desc,
                            unit="step", dynamic_ncols=True)
        elif event.kind == "step" and self.bar is not None:
            m = d["metrics"]
            self.bar.set_postfix({k: f"{m[k]:.3f}" for k in PROGRESS_LOSSES if k in m}, refresh=False)
            self.bar.update(d["step"] - self.bar.n)
        elif event.kind == "progress":
            if self.bar is None or self.bar.desc != d["task"]:
                self.close()
                self.bar = tqdm(total=d["total"], desc=d["task"], dynamic_ncols=True)
            self.bar.update(d["done"] - self.bar.n)
            if d["done"] >= d["total"]:
                self.close()
        elif event.kind == "log":
            tqdm.write(d["message"])
        elif event.kind == "quality":
            extra = f", pixel change {d['input_distance']:.3f}" if d.get("input_distance") is not None else ""
            tqdm.write(f"quality probe at step {d['step']:,}: FID {d['fid']:.1f} (best {d['best_fid']:.1f}), KID "
                       f"{1000 * d['kid_mean']:.1f}e-3, diversity {d['diversity']:.2f}{extra}, {d['seconds']:.0f} s")
        elif event.kind == "end":
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextlib.contextmanager
def cli_job(desc: str = "train"):
    """(callbacks, control) for a long command: a tqdm bar, and a Control that SIGTERM and the first
    Ctrl-C stop. A job stopped that way raises CancelledError, which main() turns into exit 130."""
    control = Control()
    stop_on_signals(control)
    progress = TqdmProgress(desc)
    try:
        yield [progress], control
    finally:
        progress.close()


def stop_on_signals(control: Control) -> None:
    """SIGTERM and the first Ctrl-C ask the job to stop cleanly (checkpoint, status `stopped`)."""
    def handler(signum, frame):
        if control.stop.is_set():
            raise KeyboardInterrupt
        control.stop.set()
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
