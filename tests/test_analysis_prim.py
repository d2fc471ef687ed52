"""PRIM recovers a planted box; readable ranges; covering."""

import numpy as np
import pandas as pd

from sim.analysis.prim import Box, preselect, prim


def planted(n=3000, seed=1, noise=0.1):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(size=(n, 5)), columns=["war.drift_per_year", "theta", "c", "d", "e"])
    X["solver"] = rng.choice(["nash", "kalai_smorodinsky"], n)
    inside = ((X["theta"] > 0.6) & (X["war.drift_per_year"] < 0.3)).to_numpy()
    y = np.where(rng.random(n) < noise, 1 - inside, inside).astype(float)
    return X, y, inside


def test_prim_recovers_planted_box():
    X, y, inside = planted()
    res = prim(X, y, alpha=0.05, min_coverage=0.5, n_boxes=1)
    box = res.boxes[0]
    assert set(box.limits) >= {"theta", "war.drift_per_year"}
    assert abs(box.limits["theta"][0] - 0.6) < 0.05
    assert abs(box.limits["war.drift_per_year"][1] - 0.3) < 0.05
    # the other dimensions stay (nearly) unrestricted
    for dim in ("c", "d", "e"):
        lo, hi = box.limits[dim]
        assert hi - lo > 0.85
    assert box.density > 0.8 > res.base_density + 0.5
    assert box.coverage > 0.5
    lines = box.restrictions(X)
    assert any(s.startswith("theta ≥ 0.") for s in lines)
    assert any(s.startswith("war.drift_per_year ≤ 0.") for s in lines)
    # trajectory: density rises as mass falls, first step is the whole sample
    t = res.trajectory
    assert t["mass"].iloc[0] == 1.0 and t["coverage"].iloc[0] == 1.0
    assert np.all(np.diff(t["mass"]) < 0)
    assert t["density"].iloc[-1] > t["density"].iloc[0]


def test_prim_with_continuous_target_and_categorical_box():
    rng = np.random.default_rng(5)
    n = 2000
    X = pd.DataFrame({"a": rng.uniform(size=n), "solver": rng.choice(["nash", "ks", "bf"], n)})
    y = 0.1 + 0.8 * ((X["solver"] == "nash") & (X["a"] > 0.5)).to_numpy()  # per-draw probability target
    res = prim(X, y, min_coverage=0.6)
    box = res.boxes[0]
    assert box.categories["solver"] == {"nash"}
    assert abs(box.limits["a"][0] - 0.5) < 0.05
    assert "solver ∈ {nash}" in box.restrictions(X)


def test_box_contains_and_restrictions_formatting():
    X = pd.DataFrame({"x": [0.0, 0.5, 1.0], "k": ["p", "q", "p"]})
    b = Box(limits={"x": (0.25, 1.0)}, categories={"k": {"p"}})
    assert list(b.contains(X)) == [False, False, True]
    assert b.restrictions(X) == ["x ≥ 0.25", "k ∈ {p}"]
    b2 = Box(limits={"x": (0.25, 0.75)})
    assert b2.restrictions(X) == ["0.25 ≤ x ≤ 0.75"]


def test_covering_finds_a_second_box():
    rng = np.random.default_rng(9)
    n = 4000
    X = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["p", "q", "r"])
    big = ((X["p"] > 0.6) & (X["q"] > 0.6)).to_numpy()
    small = ((X["r"] < 0.2) & (X["p"] < 0.4)).to_numpy()
    y = (big | small).astype(float)
    res = prim(X, y, min_coverage=0.5, n_boxes=2)
    assert len(res.boxes) == 2
    first, second = res.boxes
    assert first.limits["p"][0] > 0.55 and first.limits["q"][0] > 0.55
    assert second.limits["r"][1] < 0.25 and second.limits["p"][1] < 0.45
    assert first.coverage > second.coverage > 0.2


def test_quasi_p_value_pruning_removes_chance_restrictions():
    # 200 points in 10 dimensions: peeling picks up restrictions on noise dimensions; the quasi-p-value
    # test (Bryant & Lempert 2010) lifts them and keeps the two planted ones.
    for seed in (0, 3):
        rng = np.random.default_rng(seed)
        X = pd.DataFrame(rng.uniform(size=(200, 10)), columns=[f"x{i}" for i in range(10)])
        inb = ((X["x0"] > 0.5) & (X["x1"] < 0.5)).to_numpy()
        y = np.where(rng.random(200) < 0.1, 1 - inb, inb).astype(float)
        raw = prim(X, y, prune=0).boxes[0]
        pruned = prim(X, y, prune=0.05).boxes[0]
        assert len(raw.restrictions_keys(X)) > 4
        assert sorted(pruned.restrictions_keys(X)) == ["x0", "x1"]


def test_preselect_keeps_the_informative_columns():
    rng = np.random.default_rng(21)
    n = 400
    X = pd.DataFrame(rng.uniform(size=(n, 30)), columns=[f"x{i}" for i in range(30)])
    X["solver"] = np.where(rng.random(n) < 0.5, "nash", "ks")
    y = 0.2 * X["x7"] + 0.2 * (X["solver"] == "nash") + 0.6 * (X["x3"] > 0.5) + 0.05 * rng.random(n)
    keep = preselect(X, y.to_numpy(), 3)
    assert set(keep) == {"x3", "x7", "solver"}


def test_no_box_below_the_base_density():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.uniform(size=(500, 4)), columns=list("abcd"))
    y = (rng.random(500) < 0.2).astype(float)  # no structure at all
    res = prim(X, y, n_boxes=3)
    assert all(b.density > res.base_density for b in res.boxes)
    assert len(res.boxes) <= 1
