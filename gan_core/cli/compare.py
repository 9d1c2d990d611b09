"""`python -m gan_core compare --data PATH --models mlp,dcgan --epochs N --runs-dir DIR`: train each
model for the same budget and write a side-by-side report; prints the report folder last."""
from __future__ import annotations



def register(sub) -> None:
    p = sub.add_parser("compare", help="train noise GANs (mlp, dcgan, fastgan) for one budget and compare them")
    p.add_argument("--data", required=True, help="dataset, e.g. an MNIST raw/ folder")
    p.add_argument("--models", default="mlp,dcgan", help="comma-separated models (default: mlp,dcgan)")
    p.add_argument("--epochs", type=int, default=5, help="epochs per model (default: 5)")
    p.add_argument("--steps", type=int, default=0, help="if > 0, optimizer steps per model instead of epochs")
    p.add_argument("--image-size", type=int, default=28, help="pixels; DCGAN takes 28 or 32 (default: 28)")
    p.add_argument("--batch-size", type=int, default=64, help="images per step (default: 64)")
    p.add_argument("--seed", type=int, default=0, help="seed shared by every model (default: 0)")
    p.add_argument("--kid-samples", type=int, default=500,
                   help="generated and real images per model for KID (default: 500)")
    p.add_argument("--sample-every", type=int, default=0,
                   help="steps between sample grids (default: one epoch; the report keeps each epoch's last)")
    p.add_argument("--runs-dir", default=None, help="runs root (default $GAN_STUDIO_RUNS, then runs/)")
    p.add_argument("--out", default=None, help="report folder (default: <runs-dir>/compare-<timestamp>); "
                                               "rerun with the same one to resume")
    p.add_argument("--no-tensorboard", dest="tensorboard", action="store_false",
                   help="skip TensorBoard event files (written by default)")
    p.add_argument("--device", default="auto", help="auto, cuda, mps or cpu")
    p.set_defaults(func=run)


def run(args) -> int:
    from gan_core.cli.common import cli_job
    from gan_core.compare import compare
    from gan_core.runs import load_report

    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    with cli_job() as (callbacks, control):
        folder = compare(args.data, models, epochs=args.epochs, steps=args.steps, image_size=args.image_size,
                         batch_size=args.batch_size, seed=args.seed, kid_samples=args.kid_samples,
                         sample_every=args.sample_every, tensorboard=args.tensorboard, runs_dir=args.runs_dir or "",
                         out=args.out or "", device=args.device, callbacks=callbacks, control=control)
    table = load_report(folder)["table"]
    print(f"{'model':8} {'state':9} {'steps':>6} {'train_s':>8} {'loss_d':>7} {'loss_g':>7}  kid (mean ± std)")
    for row in table:
        print(f"{row['model']:8} {row['state']:9} {row['steps']:6d} {row['train_s']:8.1f} {row['loss_d_final']:7.3f} "
              f"{row['loss_g_final']:7.3f}  {row['kid_mean']:.4f} ± {row['kid_std']:.4f}")
    print(folder)
    return 0 if all(row["state"] == "finished" for row in table) else 1
