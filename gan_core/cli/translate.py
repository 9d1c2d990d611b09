"""`python -m gan_core translate --run DIR --input PATH --out DIR`: photos to Monet-style JPEGs."""
from __future__ import annotations

from gan_core.cli.common import CHECKPOINT_HELP, add_photo_options


def register(sub) -> None:
    p = sub.add_parser("translate", help="turn photos into Monet-style JPEGs with a trained translation run "
                                         "(CycleGAN, CUT, FastCUT)")
    p.add_argument("--run", required=True, help="run directory (or id under the runs root)")
    p.add_argument("--input", required=True, help="an image, or a folder or zip of photos (the competition "
                                                  "folder: its photo_jpg/)")
    p.add_argument("--out", required=True, help="folder for the JPEGs (named after the inputs)")
    p.add_argument("--size", type=int, default=256, help="output width and height in pixels")
    p.add_argument("--batch-size", type=int, default=8, help="photos translated at once")
    p.add_argument("--checkpoint", default=None, help=CHECKPOINT_HELP)
    p.add_argument("--device", default="auto", choices=("auto", "cuda", "mps", "cpu"))
    p.add_argument("--bf16", action="store_true", help="bf16 autocast: about 3x faster on CPUs with AMX")
    add_photo_options(p, "--size")
    p.add_argument("--runs-dir", default=None)
    p.set_defaults(func=run)


def run(args) -> int:
    from gan_core.cli.common import cli_job
    from gan_core.runs import open_run
    from gan_core.translate import translate_path

    if not 1 <= args.size <= 4096 or args.batch_size < 1:
        raise ValueError(f"--size {args.size} --batch-size {args.batch_size}: choose a size of 1 to 4096 "
                         f"pixels and a batch size of at least 1")
    source = open_run(args.run, args.runs_dir).resolve_checkpoint(args.checkpoint)
    with cli_job("translate") as (callbacks, control):
        written = translate_path(source, args.input, args.out, args.size, callbacks, control,
                                 args.batch_size, args.device, args.bf16, args.resolution, args.tta,
                                 args.subsampling, args.quality, args.colour)
    print(f"wrote {len(written)} images to {args.out}")
    return 0
