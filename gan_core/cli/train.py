"""`python -m gan_core train ...`: train or resume a run; prints the run directory last.

Under `torchrun --nproc_per_node N -m gan_core train ...` every process runs this command; rank 0
alone shows progress and prints the run directory.

`train --fork RUN[:CHECKPOINT] --run-id NEW [flags]` starts a new run from another's checkpoint
with the parent's settings and the flags given (gan_core.fork)."""
from __future__ import annotations

from gan_core.cli.common import TqdmProgress, add_config_flags, explicit_config_values, stop_on_signals
from gan_core.config import build_config, resume_config
from gan_core.distributed import is_main_process
from gan_core.events import Control
from gan_core.fork import fork_values
from gan_core.runs import Run, runs_root


def register(sub) -> None:
    p = sub.add_parser("train", help="train a GAN (mlp, dcgan, fastgan, cyclegan, cut, fastcut) into a run directory")
    add_config_flags(p)
    p.add_argument("--resume", action="store_true", help="continue the run named by --run-id from its last checkpoint")
    p.set_defaults(func=run)


def config_from_args(args):
    values = explicit_config_values(args)
    if args.preset:
        values["preset"] = args.preset
    if args.resume and values.get("run_id"):
        existing = Run(runs_root(values.get("runs_dir")) / values["run_id"])
        if (existing.path / "config.json").exists():
            saved = existing.config(strict=True)
            problems = resume_config(saved).validate()
            if problems:  # the run's own settings, before any flag given now
                raise ValueError(f"run {existing.path} cannot be resumed: its config.json holds invalid settings "
                                 f"({'; '.join(problems)}). Restore config.json, or start a new run")
            return resume_config(saved, values)
    elif args.resume:
        raise ValueError("--resume needs --run-id naming the run to continue")
    if values.get("fork"):
        if not values.get("run_id"):
            raise ValueError("--fork needs --run-id naming the new run")
        values = {**fork_values(values["fork"], values.get("runs_dir")), **values}
    return build_config(values)


def run(args) -> int:
    from gan_core.trainer import train  # imports torch; keep `--help` fast

    cfg = config_from_args(args)
    control = Control()
    stop_on_signals(control)
    main = is_main_process()
    result = train(cfg, callbacks=[TqdmProgress()] if main else [], control=control, resume=args.resume)
    status = result.status()
    if main:
        if status["state"] == "failed":
            print(f"failed: {status['message']}")
        print(result.path)
    return 1 if status["state"] == "failed" else 0
