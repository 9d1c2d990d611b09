"""`python -m gan_core sample --run DIR --count N --out PNG`: a grid from the EMA generator."""
from __future__ import annotations

from pathlib import Path

from gan_core.cli.common import CHECKPOINT_HELP


def register(sub) -> None:
    p = sub.add_parser("sample", help="write a sample grid from a trained run")
    p.add_argument("--run", required=True, help="run directory (or id under the runs root)")
    p.add_argument("--count", type=int, default=64, help="images in the grid")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--seed", type=int, default=0, help="noise seed")
    p.add_argument("--checkpoint", default=None, help=CHECKPOINT_HELP)
    p.add_argument("--runs-dir", default=None)
    p.set_defaults(func=run)


def run(args) -> int:
    from gan_core.latent import sample_images
    from gan_core.models import load_model
    from gan_core.runs import open_run
    from gan_core.trainer import save_grid

    if not 1 <= args.count <= 1024:
        raise ValueError(f"--count {args.count}: choose 1 to 1024 images for a grid")
    model, meta = load_model(open_run(args.run, args.runs_dir).path, args.checkpoint)
    images = sample_images(model, args.count, args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_grid(images, out)
    print(f"wrote {args.count} samples from step {meta['step']} to {out}")
    return 0
