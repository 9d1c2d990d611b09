"""gan_core.atomic, the one atomic writer, and the writers that go through it."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_core import atomic, checkpoint
from gan_core.runs import write_json_atomic, write_text_atomic
from gan_core.trainer import save_grid

REPO = Path(__file__).resolve().parent.parent


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    atomic._umask.cache_clear()
    yield
    os.umask(old)
    atomic._umask.cache_clear()


def test_every_writer_writes_whole_files_with_ordinary_permissions(tmp_path, umask_022):
    assert atomic.write_bytes(tmp_path / "a.bin", b"\x00\x01") == tmp_path / "a.bin"
    atomic.write_text(tmp_path / "a.txt", "héllo\n")
    atomic.write_json(tmp_path / "a.json", {"step": 3, "path": tmp_path})  # default=str, like runs' files
    atomic.torch_save({"w": torch.arange(4)}, tmp_path / "a.pt")
    atomic.save_image(Image.new("RGB", (4, 3), (255, 0, 0)), tmp_path / "a.png")
    with atomic.atomic_open(tmp_path / "a.csv", "w", newline="") as f:
        f.write("x,y\r\n1,2\r\n")

    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    assert json.loads((tmp_path / "a.json").read_text()) == {"step": 3, "path": str(tmp_path)}
    assert torch.equal(torch.load(tmp_path / "a.pt", weights_only=True)["w"], torch.arange(4))
    with Image.open(tmp_path / "a.png") as image:  # the format comes from the target's name, not the temporary's
        assert (image.format, image.size, image.getpixel((0, 0))) == ("PNG", (4, 3), (255, 0, 0))
    assert (tmp_path / "a.csv").read_bytes() == b"x,y\r\n1,2\r\n"
    for path in tmp_path.iterdir():  # what open() would have made, not mkstemp's 0600
        assert path.stat().st_mode & 0o777 == 0o644, path
    assert leftovers(tmp_path) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "status.json"
    atomic.write_json(target, {"state": "running"})
    with pytest.raises(RuntimeError, match="mid-write"):
        with atomic.atomic_open(target, "w") as f:
            f.write('{"state": "fin')
            raise RuntimeError("killed mid-write")
    with pytest.raises(Exception):
        atomic.torch_save({"f": lambda: None}, target)  # torch.save fails halfway through pickling
    with pytest.raises(Exception):
        checkpoint.save_atomic({"f": lambda: None}, target)
    with pytest.raises(ValueError, match="no image format"):
        atomic.save_image(Image.new("RGB", (2, 2)), tmp_path / "grid.unknown")
    with pytest.raises(ValueError, match="mode must start with 'w'"):
        with atomic.atomic_open(target, "a"):
            pass
    assert json.loads(target.read_text()) == {"state": "running"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]


def test_temporaries_are_unique_hidden_and_beside_the_target(tmp_path):
    target = tmp_path / "checkpoints" / "step_000100.pt"
    target.parent.mkdir()
    with atomic.atomic_path(target) as first, atomic.atomic_path(target) as second:
        assert first != second and first.parent == second.parent == target.parent
        for path in (first, second):
            assert path.name.startswith(f".step_000100.pt.{os.getpid()}.") and path.name.endswith(".tmp")
            assert path.exists() and path.stat().st_size == 0
        first.write_bytes(b"first")
        second.write_bytes(b"second")
    assert target.read_bytes() == b"first"  # the outer block committed last
    assert list(target.parent.glob("step_*.pt")) == [target] and leftovers(target.parent) == []


def test_fsync_of_file_and_folder_only_when_asked(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.path.realpath(f"/proc/self/fd/{fd}")), real(fd)))
    atomic.write_text(tmp_path / "config.json", "{}")
    assert len(synced) == 2 and synced[1] == str(tmp_path)  # the temporary's data, then the renamed entry's folder
    assert Path(synced[0]).parent == tmp_path and Path(synced[0]).name.startswith(".config.json.")
    synced.clear()
    atomic.write_text(tmp_path / "grid.txt", "x", fsync=False)
    save_grid(torch.zeros(4, 3, 8, 8), tmp_path / "step_000001.png")  # grids are redrawn: no fsync
    assert synced == []
    with Image.open(tmp_path / "step_000001.png") as image:
        assert image.format == "PNG"


def test_concurrent_writers_of_one_target_never_collide_or_tear(tmp_path):
    """The old writers named their temporary by the process id alone: two threads of one process
    wrote the same temporary, and one's rename failed or published the other's half-written file."""
    target = tmp_path / "status.json"
    payloads = [{"writer": w, "pad": "x" * 200_000} for w in range(6)]
    write_json_atomic(target, payloads[0])
    errors, seen = [], set()
    stop = threading.Event()

    def write(payload):
        try:
            for _ in range(15):
                write_json_atomic(target, payload)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def read():
        while not stop.is_set():
            seen.add(json.loads(target.read_text())["writer"])  # always a whole file

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join()
    assert errors == []
    assert json.loads(target.read_text())["writer"] in range(6) and seen <= set(range(6))
    assert leftovers(tmp_path) == []
    write_text_atomic(target, "plain")
    assert target.read_text() == "plain"


@pytest.mark.subprocess
def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "images.zip"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = {"dead": f".images.zip.{dead_pid}.abc123.partial", "old": f".images.zip.{dead_pid}.partial",
                 "alive": f".images.zip.{alive.pid}.def456.partial", "mine": f".images.zip.{os.getpid()}.x.partial",
                 "other": f".other.zip.{dead_pid}.abc.partial", "tmp": f".images.zip.{dead_pid}.abc.tmp"}
        for name in names.values():
            (tmp_path / name).write_bytes(b"partial")
        removed = atomic.remove_stale_temporaries(target, ".partial")
        assert sorted(p.name for p in removed) == sorted([names["dead"], names["old"]])
        assert sorted(leftovers(tmp_path)) == sorted(names[k] for k in ("alive", "mine", "other", "tmp"))
    finally:
        alive.kill()
        alive.wait()


ONE_ARGUMENT_RENAME = re.compile(r"\.(replace|rename)\(\s*[\w.\[\]]+\s*\)")


def test_no_other_hand_written_rename_in_gan_core():
    """Every temp-file-then-rename goes through gan_core.atomic: no os.replace / os.rename /
    Path.replace / Path.rename elsewhere (str.replace takes two arguments, dataclasses.replace keywords)."""
    offenders = []
    for path in sorted((REPO / "gan_core").rglob("*.py")):
        if path.name == "atomic.py" and path.parent.name == "gan_core":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if "os.replace(" in code or "os.rename(" in code or ONE_ARGUMENT_RENAME.search(code):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []
