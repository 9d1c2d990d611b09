"""Metric arithmetic on synthetic features: MiFID, memorisation distance, FID, KID."""
from __future__ import annotations

import json

import pytest
import torch

from gan_core.metrics import (append_score, closest_pairs, frechet_distance, kernel_inception_distance,
                              memorisation_distance, mifid)


def orthogonal_sets(dim=32):
    """Generated features orthogonal to every reference one: memorisation distance exactly 1."""
    basis = torch.eye(dim, dtype=torch.float64)
    return basis[: dim // 2] * 3.0, basis[dim // 2:] * 2.0


def test_memorisation_distance_uses_absolute_cosine():
    ref = torch.randn(20, 64, dtype=torch.float64)
    assert memorisation_distance(ref[:5], ref) == pytest.approx(0.0, abs=1e-12)
    assert memorisation_distance(-ref[:5], ref) == pytest.approx(0.0, abs=1e-12)  # |cos| = 1: still a copy
    gen, ref = orthogonal_sets()
    assert memorisation_distance(gen, ref) == pytest.approx(1.0)


def test_memorisation_distance_is_mean_of_nearest():
    ref = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    gen = torch.tensor([[1.0, 1.0], [1.0, 0.0]])  # 45 degrees from both; on the first
    expected = ((1 - 2 ** -0.5) + 0.0) / 2
    assert memorisation_distance(gen, ref) == pytest.approx(expected)


def test_mifid_penalises_only_below_threshold():
    gen, ref = orthogonal_sets()
    assert mifid(50.0, gen, ref) == 50.0  # d = 1 >= 0.1: plain FID
    near = ref[:4] + 0.01 * torch.randn(4, ref.shape[1], dtype=torch.float64)
    d = memorisation_distance(near, ref)
    assert d < 0.1
    assert mifid(50.0, near, ref) == pytest.approx(50.0 / (d + 1e-14))
    assert mifid(50.0, near, ref, threshold=d / 2) == 50.0


def test_closest_pairs_sorted_and_named():
    ref = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    gen = torch.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [1.0, 0.1, 0.0]])
    pairs = closest_pairs(gen, ref, ["g0", "g1", "g2"], ["r0", "r1"], top_k=2)
    assert [(p["generated"], p["reference"]) for p in pairs] == [("g0", "r1"), ("g2", "r0")]
    assert pairs[0]["distance"] <= pairs[1]["distance"]


def test_frechet_distance_of_a_set_with_itself_and_a_shift():
    feats = torch.randn(200, 16, dtype=torch.float64)
    assert frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-8)
    shift = torch.full((16,), 0.5, dtype=torch.float64)
    assert frechet_distance(feats + shift, feats) == pytest.approx(float(shift @ shift), rel=1e-6)


def test_kid_subset_adapts_to_few_images():
    a, b = torch.randn(12, 16), torch.randn(9, 16) + 2.0
    mean, std = kernel_inception_distance(a, b)
    assert mean > 0 and std >= 0
    same_mean, _ = kernel_inception_distance(a, a)
    assert abs(same_mean) < mean


def test_append_score_writes_one_line_per_call(tmp_path):
    append_score(tmp_path, {"fid": 1.5})
    append_score(tmp_path, {"fid": 2.5})
    rows = [json.loads(line) for line in (tmp_path / "scores.jsonl").read_text().splitlines()]
    assert [r["fid"] for r in rows] == [1.5, 2.5]
    assert all("time" in r for r in rows)
