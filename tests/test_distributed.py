"""Training on several processes (torchrun, DistributedDataParallel) on the CPU with gloo, on the
real Monet paintings: one run directory, identical networks on every rank, exact resume, and a
single process under torchrun that is the plain command."""
import os
import subprocess
import sys

import pytest
import torch

from gan_core import checkpoint
from gan_core.config import build_config
from gan_core.models import build_model
from gan_core.runs import Run

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs the train command with Trainer._fit wrapped to save the rank's bare generator afterwards:
# rank 1 writes nothing itself, and this is how the test sees its weights.
DUMPING_LAUNCHER = """
import sys, torch
from gan_core import trainer
from gan_core.cli import main

fit = trainer.Trainer._fit

def fit_and_dump(self):
    run = fit(self)
    G = self.model.nets[self.model.ema_net]  # the generator: G, or CycleGAN's G_monet
    nets = {name: {k: v.detach() for k, v in net.named_parameters()} for name, net in self.model.nets.items()}
    pools = {k: p.state_dict()["images"] for k, p in getattr(self.model, "pools", {}).items()}
    torch.save({"params": {k: v.detach() for k, v in G.named_parameters()},
                "buffers": {k: v for k, v in G.named_buffers()}, "nets": nets, "pools": pools},
               f"{DUMP_DIR}/rank{self.dist.rank}.pt")
    return run

trainer.Trainer._fit = fit_and_dump
sys.exit(main(sys.argv[1:]))
"""


def train_args(data, runs_dir, run_id, steps=3):
    return ["train", "--data", str(data), "--model", "dcgan", "--image-size", "32", "--ngf", "8", "--ndf", "8",
            "--batch-size", "8", "--steps", str(steps), "--device", "cpu", "--seed", "3",
            "--runs-dir", str(runs_dir), "--run-id", run_id]


def launch(args, nproc=None, script=None):
    """The command as a user types it: plain, or under torchrun with nproc processes."""
    entry = [script] if script else ["-m", "gan_core"]
    prefix = [] if nproc is None else ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, *prefix, *entry, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def dumping_launcher(tmp_path):
    dumps = tmp_path / "dumps"
    dumps.mkdir(exist_ok=True)
    script = tmp_path / "launch_and_dump.py"
    script.write_text(f"DUMP_DIR = {str(dumps)!r}\n" + DUMPING_LAUNCHER)
    return str(script), dumps


def learned(run):
    """Per-step metrics without the clock."""
    return [{k: v for k, v in r.items() if k not in ("time", "images_per_s")} for r in run.metrics()]


def generator(run):
    return checkpoint.load(run.latest_checkpoint())["state"]["nets"]["G"]


@pytest.mark.subprocess
def test_two_processes_stay_identical_and_resume_exactly(competition_data, runs_dir, tmp_path):
    script, dumps = dumping_launcher(tmp_path)
    out = launch(train_args(competition_data, runs_dir, "straight"), nproc=2, script=script)
    straight = Run(runs_dir / "straight")
    assert out.strip().splitlines()[-1] == str(straight.path)  # printed once, by rank 0
    assert [r["step"] for r in straight.metrics()] == [1, 2, 3]
    assert straight.status()["state"] == "finished" and [p.name for p in straight.checkpoints()] == ["step_000003.pt"]
    rank0, rank1 = (torch.load(dumps / f"rank{r}.pt") for r in (0, 1))
    saved = generator(straight)
    for name, weight in rank1["params"].items():
        assert torch.equal(weight, saved[name]) and torch.equal(weight, rank0["params"][name]), name
    # Same weights from different batches: BatchNorm's running statistics are each rank's own.
    assert not torch.equal(rank0["buffers"]["net.1.running_mean"], rank1["buffers"]["net.1.running_mean"])

    launch(train_args(competition_data, runs_dir, "resumed", steps=2), nproc=2)
    launch(train_args(competition_data, runs_dir, "resumed") + ["--resume"], nproc=2)
    resumed = Run(runs_dir / "resumed")
    assert learned(resumed) == learned(straight)
    for name, weight in generator(straight).items():
        assert torch.equal(weight, generator(resumed)[name]), name


@pytest.mark.subprocess
def test_one_process_under_torchrun_is_the_plain_command(competition_data, runs_dir):
    launch(train_args(competition_data, runs_dir, "plain"))
    launch(train_args(competition_data, runs_dir, "torchrun"), nproc=1)
    plain, torchrun = Run(runs_dir / "plain"), Run(runs_dir / "torchrun")
    assert learned(plain) == learned(torchrun)
    for name, weight in generator(plain).items():
        assert torch.equal(weight, generator(torchrun)[name]), name


@pytest.mark.parametrize("setting, message", [
    ({"sync_batchnorm": True}, "--sync-batchnorm needs CUDA"),
    ({"accumulation_steps": 2}, "--accumulation-steps above 1 is not supported with several processes"),
])
def test_settings_that_cannot_run_on_several_cpu_processes_are_refused(setting, message):
    cfg = build_config(dict(model="dcgan", image_size=32, ngf=8, ndf=8, **setting))
    model = build_model(cfg, 3, torch.device("cpu"))
    with pytest.raises(ValueError, match=message):
        model.distribute(rank=0, world_size=2)  # refused before any process group is needed


def test_shards_are_disjoint_and_cover_the_epoch():
    cfg = build_config(dict(model="dcgan", image_size=32, ngf=8, ndf=8))
    model = build_model(cfg, 3, torch.device("cpu"))
    order = torch.randperm(301)
    shards = []
    for rank in range(3):
        model.rank, model.world_size = rank, 3
        shards.append(model.shard(order))
    assert [len(s) for s in shards] == [100, 100, 100]
    assert sorted(torch.cat(shards).tolist()) == sorted(order[:300].tolist())
    model.rank, model.world_size = 0, 1
    assert torch.equal(model.shard(order), order)


@pytest.mark.subprocess
def test_cut_on_two_processes_with_accumulation_stays_identical(competition_data, runs_dir, tmp_path):
    script, dumps = dumping_launcher(tmp_path)
    args = ["train", "--data", str(competition_data), "--model", "cut", "--image-size", "32", "--ngf", "4",
            "--ndf", "4", "--n-blocks", "1", "--nce-patches", "8", "--nce-dim", "8", "--batch-size", "1",
            "--accumulation-steps", "2", "--epoch-size", "8", "--steps", "2", "--diffaugment", "--device", "cpu",
            "--runs-dir", str(runs_dir), "--run-id", "cut2"]
    launch(args, nproc=2, script=script)
    run = Run(runs_dir / "cut2")
    assert [r["step"] for r in run.metrics()] == [1, 2]
    rank0, rank1 = (torch.load(dumps / f"rank{r}.pt") for r in (0, 1))
    saved = generator(run)
    for name, weight in rank1["params"].items():
        assert torch.equal(weight, rank0["params"][name]) and torch.equal(weight, saved[name]), name
    heads = checkpoint.load(run.latest_checkpoint())["state"]["nets"]["F"]
    assert heads and all(torch.isfinite(v).all() for v in heads.values())


@pytest.mark.subprocess
def test_cyclegan_on_two_processes_stays_identical(competition_data, runs_dir, tmp_path):
    """Both generators and both discriminators, wrapped in DistributedDataParallel, end equal on both
    ranks and equal to the checkpoint, with DiffAugment and history pools drawing per rank."""
    script, dumps = dumping_launcher(tmp_path)
    args = ["train", "--data", str(competition_data), "--model", "cyclegan", "--image-size", "32", "--ngf", "4",
            "--ndf", "4", "--n-blocks", "1", "--batch-size", "1", "--epoch-size", "4", "--steps", "2",
            "--pool-size", "2", "--diffaugment", "--device", "cpu", "--runs-dir", str(runs_dir), "--run-id", "cyc2"]
    launch(args, nproc=2, script=script)
    run = Run(runs_dir / "cyc2")
    assert [r["step"] for r in run.metrics()] == [1, 2] and run.status()["state"] == "finished"
    rank0, rank1 = (torch.load(dumps / f"rank{r}.pt") for r in (0, 1))
    saved = checkpoint.load(run.latest_checkpoint())["state"]["nets"]
    assert set(rank0["nets"]) == {"G_monet", "G_photo", "D_monet", "D_photo"}
    for net, params in rank0["nets"].items():
        for name, weight in params.items():
            assert torch.equal(weight, rank1["nets"][net][name]), f"{net}.{name}"
            assert torch.equal(weight, saved[net][name]), f"{net}.{name}"
    # Same weights from different data: each rank's history pool holds its own shard's translations.
    assert set(rank0["pools"]) == {"monet", "photo"}
    for domain, images in rank0["pools"].items():
        assert images.shape == (2, 3, 32, 32) and not torch.equal(images, rank1["pools"][domain]), domain


@pytest.mark.subprocess
def test_fastgan_on_two_processes_stays_identical(competition_data, runs_dir, tmp_path):
    """D's decoders take part in its real forward only: DDP must still average every gradient."""
    script, dumps = dumping_launcher(tmp_path)
    args = ["train", "--data", str(competition_data), "--model", "fastgan", "--image-size", "64", "--ngf", "8",
            "--ndf", "8", "--batch-size", "4", "--steps", "2", "--device", "cpu", "--seed", "3",
            "--runs-dir", str(runs_dir), "--run-id", "fastgan"]
    launch(args, nproc=2, script=script)
    run = Run(runs_dir / "fastgan")
    assert run.status()["state"] == "finished" and [r["step"] for r in run.metrics()] == [1, 2]
    rank0, rank1 = (torch.load(dumps / f"rank{r}.pt") for r in (0, 1))
    for net in ("G", "D"):
        for name, weight in rank0["nets"][net].items():
            assert torch.equal(weight, rank1["nets"][net][name]), f"{net}.{name}"
    assert any("decode" in name for name in rank0["nets"]["D"])
