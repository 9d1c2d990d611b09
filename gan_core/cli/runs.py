"""`python -m gan_core runs`: list runs with state, step, last losses and the best probe FID, then the
sweeps and comparison reports of the runs directory. A damaged run, sweep or report is listed as
damaged with the reason, under the others."""


def register(sub) -> None:
    p = sub.add_parser("runs", help="list runs, sweeps and comparison reports in the runs directory")
    p.add_argument("--runs-dir", default=None)
    p.set_defaults(func=run)


def run(args) -> int:
    from gan_core.runs import list_reports, list_runs, list_sweeps, report_problem, runs_root, sweep_problem

    runs, sweeps, reports = list_runs(args.runs_dir), list_sweeps(args.runs_dir), list_reports(args.runs_dir)
    if not (runs or sweeps or reports):
        print(f"no runs in {runs_root(args.runs_dir)}")
        return 0
    if runs:
        print(f"{'run':32} {'model':9} {'state':9} {'step':>7} {'loss_d':>8} {'loss_g':>8} {'best probe FID':>20}")
    for r in runs:
        s = r.summary()
        fmt = lambda v: f"{v:8.3f}" if isinstance(v, (int, float)) else f"{'-':>8}"  # noqa: E731
        probe = f"{s['probe_fid']:.1f} @ {s['probe_step']}" if isinstance(s["probe_fid"], (int, float)) else "-"
        step = s["step"] if isinstance(s["step"], int) else 0
        print(f"{s['run']:32} {s['model'] or '-':9} {s['state'] or '-':9} {step:7d} {fmt(s['loss_d'])} "
              f"{fmt(s['loss_g'])} {probe:>20}")
        for line in r.problems() + r.notes():  # why it is damaged, what was skipped
            print(f"    {line}")
    for kind, folders, problem_of in (("sweep", sweeps, sweep_problem), ("comparison", reports, report_problem)):
        for folder in folders:
            problem = problem_of(folder)
            print(f"{kind} {folder.name}: " + (f"damaged: {problem}" if problem else str(folder)))
    return 0
