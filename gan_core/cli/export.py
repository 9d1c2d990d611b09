"""`python -m gan_core export --run DIR --count 7000 --out images.zip`: the competition submission."""
from __future__ import annotations

from gan_core.cli.common import CHECKPOINT_HELP, add_photo_options


def register(sub) -> None:
    p = sub.add_parser("export", help="write the competition's images.zip (256x256 JPEGs) from a trained run")
    p.add_argument("--run", required=True, help="run directory (or id under the runs root)")
    p.add_argument("--count", type=int, default=7000, help="images to write: 1 to 10,000 (a submission needs "
                                                           "at least 7,000)")
    p.add_argument("--out", default="images.zip", help="zip file to write (its folder is created)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (MLP/DCGAN runs)")
    p.add_argument("--checkpoint", default=None, help=CHECKPOINT_HELP)
    p.add_argument("--batch-size", type=int, default=64, help="images generated at a time")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--fp32", action="store_true", help="fp32 inference (default: bf16 autocast where the device "
                                                       "supports it, within about 1 level of 255 and faster)")
    add_photo_options(p, "256 px", none_by_default=True)
    p.add_argument("--runs-dir", default=None)
    p.set_defaults(func=run)


def run(args) -> int:
    from gan_core.cli.common import cli_job
    from gan_core.export import export_zip
    from gan_core.export_validate import ValidationReport
    from gan_core.runs import open_run

    with cli_job("export") as (callbacks, control):
        report = export_zip(open_run(args.run, args.runs_dir), count=args.count, out=args.out, seed=args.seed,
                            checkpoint=args.checkpoint, quality=args.quality, batch_size=args.batch_size,
                            callbacks=callbacks, control=control, device=args.device, fp32=args.fp32,
                            resolution=args.resolution, tta=args.tta, subsampling=args.subsampling,
                            colour=args.colour)
    print(ValidationReport(**report["validation"]).summary())
    print(f"wrote {report['count']:,} images from step {report['step']} in {report['seconds']:.1f} s "
          f"(manifest {report['manifest']})")
    print(report["path"])
    return 0
