"""`python -m gan_core runs`: list runs with state, step, last losses and the best probe FID."""


def register(sub) -> None:
    p = sub.add_parser("runs", help="list runs in the runs directory")
    p.add_argument("--runs-dir", default=None)
    p.set_defaults(func=run)


def run(args) -> int:
    from gan_core.runs import list_runs, runs_root

    runs = list_runs(args.runs_dir)
    if not runs:
        print(f"no runs in {runs_root(args.runs_dir)}")
        return 0
    print(f"{'run':32} {'model':9} {'state':9} {'step':>7} {'loss_d':>8} {'loss_g':>8} {'best probe FID':>20}")
    for r in runs:
        s = r.summary()
        fmt = lambda v: f"{v:8.3f}" if isinstance(v, (int, float)) else f"{'-':>8}"  # noqa: E731
        probe = f"{s['probe_fid']:.1f} @ {s['probe_step']}" if s["probe_fid"] is not None else "-"
        print(f"{s['run']:32} {s['model'] or '-':9} {s['state'] or '-':9} {s['step']:7d} {fmt(s['loss_d'])} "
              f"{fmt(s['loss_g'])} {probe:>20}")
    return 0
