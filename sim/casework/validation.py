"""The engine validation harness.

Every engine and baseline on DEU III, and calibrated variants scored out of sample (a fixed split by
proposal, a cluster bootstrap, and repeated grouped random half-splits); renders ``docs/validation.md``.

References
----------
Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements for inference with
clustered errors. *Rev. Econ. Stat.* 90(3), 414-427.
Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*. Cambridge UP.
Roberts, D. R. et al. (2017). Cross-validation strategies for data with temporal, spatial, hierarchical, or
phylogenetic structure. *Ecography* 40(8), 913-929.
Varma, S. & Simon, R. (2006). Bias in error estimation when using cross-validation for model selection.
*BMC Bioinformatics* 7, 91.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.casework.data import read_cases, read_outcomes
from sim.casework.run import predictions_frame, run_cases
from sim.casework.scoring import (
    VARIANTS,
    PaddedCases,
    ProcedureWeightedMean,
    Shrinkage,
    WeightShrinkage,
    baseline_predictions,
    half_of,
    join_outcomes,
    proposal_id,
    summarise,
)
from sim.errors import UserError

TRAIN, OUTCOMES = "deu3/deu3_train.csv", "deu3/deu3_train_outcomes.csv"
COMPROMISE = "capability × salience weighted mean"
SCORED_ENGINES = ("compromise", "nash", "bdm_scholz", "ktab_smp")  # not `calibrated`: fitted on these cases
SPLIT_SEED = 20261122  # root of the random splits (child 0) and of the bootstrap (child 1)
N_SPLITS = 500
N_BOOT = 2000
SELECTED = "best of the three, chosen on the fit half"


@dataclass
class ValidationReport:
    """Scores of engines, baselines and out-of-sample variants (all MAE on the 0-100 scale)."""

    data_dir: Path
    engines: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)
    folds: list[dict[str, object]] = field(default_factory=list)
    pooled: dict[str, dict[str, float]] = field(default_factory=dict)
    n_cases: int = 0
    n_proposals: int = 0
    variants: list[str] = field(default_factory=list)
    variant_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fold_params: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    full_fit: dict[str, dict[str, float]] = field(default_factory=dict)
    full_fit_mae: dict[str, float] = field(default_factory=dict)
    equal_blend_mae: float = np.nan
    bootstrap: dict[str, dict[str, float]] = field(default_factory=dict)
    repeated: dict[str, dict[str, float]] = field(default_factory=dict)
    split_params: dict[str, np.ndarray] = field(default_factory=dict)
    selected_share: dict[str, float] = field(default_factory=dict)
    n_splits: int = 0


def validate_engines(
    data_dir: str | Path, engines: tuple[str, ...] = SCORED_ENGINES, progress: bool = False
) -> ValidationReport:
    """Score every engine and baseline on ``deu3_train`` against the real outcomes.

    Then fit the calibrated variants on each half of the cases and score them on the other half.

    Raises
    ------
    UserError
        If the DEU files are missing under ``data_dir``.
    """
    data_dir = Path(data_dir)
    for rel in (TRAIN, OUTCOMES):
        if not (data_dir / rel).is_file():
            raise UserError(f"{data_dir / rel}: no such file (expected the validation folder, see --data)")
    cases = read_cases(data_dir / TRAIN)
    outcomes = read_outcomes(data_dir / OUTCOMES)
    rep = ValidationReport(data_dir=data_dir, n_cases=len(cases))
    preds: dict[str, pd.DataFrame] = {}
    for eng in engines:
        t0 = time.perf_counter()
        preds[eng] = predictions_frame(run_cases(cases, eng, progress=progress))
        rep.seconds[eng] = time.perf_counter() - t0
        rep.engines[eng] = summarise(join_outcomes(preds[eng], outcomes))
    for name, p in baseline_predictions(cases).items():
        rep.baselines[name] = summarise(join_outcomes(p, outcomes))
        preds[name] = p

    out_of_sample(rep, cases, outcomes, preds[COMPROMISE])
    return rep


def grouped_split_masks(groups: np.ndarray, n_splits: int, seed: np.random.SeedSequence) -> np.ndarray:
    """Random half-splits of the groups (proposals): boolean (n_splits, rows), True on the fit side.

    Each split draws one uniform key per group and puts the ``G // 2`` groups with the smallest keys on the
    fit side, so every row of a group lands on the same side (grouped cross-validation; Roberts et al.
    2017). ``groups`` holds an integer code per row.
    """
    groups = np.asarray(groups)
    n_groups = int(groups.max()) + 1 if groups.size else 0
    keys = np.random.default_rng(seed).random((n_splits, n_groups))
    rank = np.argsort(np.argsort(keys, axis=1, kind="stable"), axis=1, kind="stable")
    return (rank < n_groups // 2)[:, groups]


def split_table(cases: list[str], n_splits: int = N_SPLITS, seed: int = SPLIT_SEED) -> pd.DataFrame:
    """Return the repeated grouped splits as a table ``split, case, proposal, fit`` (True: on side A).

    The same splits as :func:`out_of_sample` draws for ``cases`` in the same order.
    """
    codes, props = pd.factorize(pd.Series([proposal_id(c) for c in cases]))
    masks = grouped_split_masks(codes, n_splits, np.random.SeedSequence(seed).spawn(2)[0])
    return pd.DataFrame(
        {
            "split": np.repeat(np.arange(n_splits), len(cases)),
            "case": np.tile(np.asarray(cases, dtype=object), n_splits),
            "proposal": np.tile(np.asarray(props, dtype=object)[codes], n_splits),
            "fit": masks.ravel(),
        }
    )


def cross_fit(errors: np.ndarray, fit: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-fold cross-fitting of a grid rule, for many splits at once.

    Parameters
    ----------
    errors : (P, N) absolute error of every grid point on every case.
    fit : (S, N) boolean, True where a case is on side A of split s.

    Returns
    -------
    held : (S, N) error of each case under the grid point chosen on the other side (each case scored once).
    choice_a, choice_b : (S,) grid index fitted on side A and on side B (first minimum of the MAE).
    fit_mae_a, fit_mae_b are not returned; :func:`fit_mae` gives them.
    """
    a = fit.astype(float)
    mae_a = (a @ errors.T) / a.sum(axis=1, keepdims=True)
    mae_b = ((1 - a) @ errors.T) / (1 - a).sum(axis=1, keepdims=True)
    choice_a, choice_b = np.argmin(mae_a, axis=1), np.argmin(mae_b, axis=1)
    held = np.where(fit, errors[choice_b], errors[choice_a])
    return held, choice_a, choice_b


def fit_mae(errors: np.ndarray, fit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest in-sample MAE over the grid on side A and on side B of each split, shape (S,) each."""
    a = fit.astype(float)
    mae_a = (a @ errors.T) / a.sum(axis=1, keepdims=True)
    mae_b = ((1 - a) @ errors.T) / (1 - a).sum(axis=1, keepdims=True)
    return mae_a.min(axis=1), mae_b.min(axis=1)


def cluster_bootstrap(diff: np.ndarray, groups: np.ndarray, n_boot: int, seed: np.random.SeedSequence):
    """Paired cluster bootstrap of a mean difference: resample whole groups (proposals) with replacement.

    Returns the (n_boot,) bootstrap means of ``diff`` (Davison & Hinkley 1997, §3.8; Cameron, Gelbach &
    Miller 2008 on clustered data). Counts per group are multinomial(G, 1/G), the law of G draws with
    replacement, so the resampling is one matrix product.
    """
    n_groups = int(groups.max()) + 1
    d_sum = np.bincount(groups, weights=diff, minlength=n_groups)
    n_sum = np.bincount(groups, minlength=n_groups).astype(float)
    counts = np.random.default_rng(seed).multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), n_boot)
    return (counts @ d_sum) / (counts @ n_sum)


def _interval(values: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def out_of_sample(rep: ValidationReport, cases, outcomes: pd.DataFrame, comp_pred: pd.DataFrame) -> None:
    """Fill ``rep`` with the out-of-sample comparison of the calibrated variants with the compromise model.

    1. The fixed hash split, both ways (every case scored once, by a model fitted on the other half), for
       the grid variants of :data:`sim.casework.scoring.VARIANTS` and the older procedure-weighted mean
       and LAD shrinkage.
    2. A paired cluster bootstrap, by proposal, of the pooled held-out MAE difference on that split.
    3. ``N_SPLITS`` random grouped half-splits, each fitted both ways: mean, 2.5-97.5% range over splits
       and win share of the pooled held-out MAE difference (variant - compromise); also the variant chosen
       on each fit half by its in-sample MAE (nested selection, so that picking the best of k variants is
       part of the procedure being scored).
    """
    padded = PaddedCases.from_cases(cases)
    y = padded.outcomes(outcomes)
    keep = ~np.isnan(y)
    case_ids = padded.index.get_level_values("case").to_numpy()[keep]
    y = y[keep]
    comp = padded.weighted_mean(padded.c * padded.s)[keep]
    comp_err = np.abs(comp - y)
    codes, _ = pd.factorize(pd.Series([proposal_id(c) for c in case_ids]))
    variants = [v() for v in VARIANTS]
    errors = {v.label: np.abs(v.grid_predictions(padded)[:, keep] - y) for v in variants}
    rep.variants = [v.label for v in variants]
    rep.variant_names = {v.label: v.names for v in variants}
    rep.full_fit = {v.label: v.fit(padded, outcomes).param_dict() for v in variants}
    lam = np.array([g[0] for g in WeightShrinkage.grid])
    rep.equal_blend_mae = float(errors[WeightShrinkage.label][int(np.argmin(np.abs(lam - 0.5)))].mean())
    rep.full_fit_mae = {v.label: float(np.abs(v.predict_array(padded)[keep] - y).mean()) for v in variants}
    rep.n_proposals = int(codes.max()) + 1

    # 1. the fixed split by hash
    half0 = np.array([half_of(c) == 0 for c in case_ids])
    procs = outcomes.drop_duplicates("case").set_index("case")["procedure"].astype(str).to_dict()
    held: dict[str, np.ndarray] = {"compromise": comp_err}
    fold_params: dict[str, list[dict[str, float]]] = {}
    for v in variants:
        h, ca, cb = cross_fit(errors[v.label], half0[None])
        held[v.label] = h[0]
        fold_params[v.label] = [dict(zip(v.names, v.grid[int(c[0])], strict=True)) for c in (ca, cb)]
    comp_frame = join_outcomes(comp_pred, outcomes)
    old = {"procedure-weighted mean": {}, "LAD shrinkage": {}}
    old_params: dict[str, list[dict[str, float]]] = {"procedure-weighted mean": [], "LAD shrinkage": []}
    for hv in (0, 1):
        train = [c for c in cases if half_of(c.name) == hv]
        test = [c for c in cases if half_of(c.name) != hv]
        pwm = ProcedureWeightedMean().fit(train, outcomes[outcomes["case"].map(half_of) == hv])
        for r in join_outcomes(pwm.predict(test, procs), outcomes).itertuples():
            old["procedure-weighted mean"][r.case, r.dimension] = r.abs_error
        tr = comp_frame[comp_frame["case"].map(half_of) == hv]
        shr = Shrinkage().fit(tr["prediction"].to_numpy(), tr["outcome"].to_numpy())
        te = comp_frame[comp_frame["case"].map(half_of) != hv]
        for r, p in zip(te.itertuples(), shr.predict(te["prediction"].to_numpy()), strict=True):
            old["LAD shrinkage"][r.case, r.dimension] = abs(p - r.outcome)
        old_params["procedure-weighted mean"].append(
            {"gamma": pwm.gamma, **{f"{p}:{a}": v for (p, a), v in sorted(pwm.mult.items())}}
        )
        old_params["LAD shrinkage"].append({"a": shr.a, "b": shr.b})
    idx = list(padded.index[keep])
    for name, d in old.items():
        held[name] = np.array([d[k] for k in idx])
    fold_params.update(old_params)
    rep.fold_params = fold_params
    rep.folds = []
    for hv in (0, 1):
        test = half0 if hv == 1 else ~half0
        rep.folds.append(
            {
                "fit_half": hv,
                "n_fit": int((~test).sum()),
                "n_test": int(test.sum()),
                **{name: float(e[test].mean()) for name, e in held.items()},
            }
        )
    rep.pooled = {name: {"n": int(len(e)), "mae": float(e.mean())} for name, e in held.items()}

    # 2. paired cluster bootstrap of the pooled held-out difference on the fixed split
    split_ss, boot_ss = np.random.SeedSequence(SPLIT_SEED).spawn(2)
    rep.bootstrap = {}
    names = [n for n in held if n != "compromise"]
    for name, ss in zip(names, boot_ss.spawn(len(names)), strict=True):
        draws = cluster_bootstrap(held[name] - comp_err, codes, N_BOOT, ss)
        lo, hi = _interval(draws)
        rep.bootstrap[name] = {"diff": float((held[name] - comp_err).mean()), "lo": lo, "hi": hi}

    # 3. repeated grouped random half-splits, each fitted both ways
    masks = grouped_split_masks(codes, N_SPLITS, split_ss)
    comp_mae = float(comp_err.mean())
    per_split: dict[str, np.ndarray] = {}
    fitted_sel = []
    held_sel = []
    rep.split_params = {}
    for v in variants:
        h, ca, cb = cross_fit(errors[v.label], masks)
        per_split[v.label] = h.mean(axis=1) - comp_mae
        grid = np.array(v.grid, dtype=float)
        rep.split_params[v.label] = np.concatenate([grid[ca], grid[cb]])
        fitted_sel.append(fit_mae(errors[v.label], masks))
        held_sel.append(h)
    # nested selection: on each side, the variant with the smallest in-sample MAE after fitting
    fa = np.stack([f[0] for f in fitted_sel])  # (V, S) side A fits, scored on side B
    fb = np.stack([f[1] for f in fitted_sel])
    pick_a, pick_b = np.argmin(fa, axis=0), np.argmin(fb, axis=0)
    hs = np.stack(held_sel)  # (V, S, N): error of each case under the variant fitted on the other side
    s_idx = np.arange(N_SPLITS)
    sel = np.where(masks, hs[pick_b, s_idx][:, :], hs[pick_a, s_idx][:, :])
    per_split[SELECTED] = sel.mean(axis=1) - comp_mae
    rep.selected_share = {
        v.label: float(np.mean(np.r_[pick_a == k, pick_b == k])) for k, v in enumerate(variants)
    }
    rep.repeated = {}
    for name, d in per_split.items():
        lo, hi = _interval(d)
        rep.repeated[name] = {
            "mean": float(d.mean()),
            "median": float(np.median(d)),
            "lo": lo,
            "hi": hi,
            "win_share": float(np.mean(d < 0)),
            "mae": float(comp_mae + d.mean()),
        }
    rep.n_splits = N_SPLITS


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _fmt(v: float) -> str:
    return f"{v:.2f}"


_GREEK = {"lambda": "λ", "alpha": "α", "gamma": "γ", "tau": "τ"}


def _pstr(params: dict[str, float]) -> str:
    return ", ".join(f"{_GREEK.get(k, k)}={v:.3g}" for k, v in params.items())


def _signed(v: float) -> str:
    return f"{v:+.2f}"


def _oos_section(rep: ValidationReport) -> list[str]:
    """Render the out-of-sample part of the page: fixed split, bootstrap, repeated splits, verdict."""
    if not rep.folds:
        return []
    names = [n for n in rep.pooled if n != "compromise"]
    primary = rep.variants[0]
    lines = [
        "## Can a calibrated variant beat the compromise model out of sample?",
        "",
        "Three grid-fitted variants were fixed before any held-out score was computed (their code and "
        "grids are in `sim/casework/scoring.py`); the first was declared the candidate for the "
        "`calibrated` engine in advance, because it has one parameter and nests both the compromise model "
        "and the plain mean:",
        "",
        "- **weight shrinkage** (forecast combination; Bates & Granger 1969, Clemen 1989): weights "
        "λ · (c·s)/Σ(c·s) + (1 − λ)/n, which is exactly λ · compromise + (1 − λ) · plain mean; λ on 21 "
        "values in [0, 1]. λ = 1 is the compromise model.",
        "- **power weights**: weighted mean with weights c^α · s^γ, α in {0, ½, 1, 3/2, 2}, γ in "
        "{0, ½, 1, 2}; α = γ = 1 is the compromise model.",
        "- **agenda-setter core** (Tsebelis & Garrett 2000; Crombez 1996; Thomson 2011): the Commission's "
        "position clipped to the Council's qualified-majority core (the interval no coalition with a "
        "vote share τ can leave; vote weight = capability), τ in {0.55, 0.60, …, 1}. Symmetric, so it does "
        "not depend on the direction of the scale.",
        "",
        "Each is fitted by minimising the MAE over its grid on the fit half. The older "
        "**procedure-weighted mean** (weights c · s^γ · m with multipliers for the Commission and the "
        "Parliament per procedure) and **LAD shrinkage** (a + b · compromise, least absolute deviations) "
        "are kept for the fixed split only (they are not vectorised over splits).",
        "",
        'A caveat on "in advance": an exploration before this harness existed had already computed the '
        "blend of the compromise model and the plain mean on all cases and on the fixed split (the equal "
        f"blend, λ = ½, has an in-sample MAE of {rep.equal_blend_mae:.2f} on all {rep.n_cases} cases), so "
        "the fixed-split result of the weight shrinkage is not a fresh test. The random splits below are "
        "the fairer one. In sample, with the parameters fitted on all cases: "
        + ", ".join(f"{n} {rep.full_fit_mae[n]:.2f}" for n in rep.variants)
        + f" (compromise {rep.pooled['compromise']['mae']:.2f}); these are optimistic by construction.",
        "",
        "The data carry no status quo (reference point), so the suggested Nash variant with the status quo "
        "as disagreement point cannot be built from them; the `nash` engine uses each actor's worst end of "
        "the scale instead (with that choice salience cancels out of the first-order condition, and the "
        "solution is a capability-weighted compromise pulled toward the centre of the scale).",
        "",
        "### 1. The fixed split",
        "",
        "The cases are split in two by a fixed hash of the proposal id (SHA-256 of `d00060` for "
        "`d00060i2`, modulo 2), so that the issues of one proposal stay on one side. Each variant is fitted "
        "on one half and scored on the other, then the halves swap; the pooled row scores every case once, "
        "with the model fitted on the half it is not in. Held-out MAE:",
        "",
        "| fitted on half | n fit | n scored | compromise | " + " | ".join(names) + " |",
        "|---:|---:|---:|---:|" + "---:|" * len(names),
    ]
    for f in rep.folds:
        lines.append(
            f"| {f['fit_half']} | {f['n_fit']} | {f['n_test']} | {_fmt(f['compromise'])} | "
            + " | ".join(_fmt(f[n]) for n in names)
            + " |"
        )
    lines.append(
        f"| pooled | | {rep.pooled['compromise']['n']} | {_fmt(rep.pooled['compromise']['mae'])} | "
        + " | ".join(_fmt(rep.pooled[n]["mae"]) for n in names)
        + " |"
    )
    lines += [
        "",
        "Fitted parameters (the last column is fitted on all cases, in sample; it is what the "
        "`calibrated` engine uses for the weight shrinkage):",
        "",
        "| variant | fitted on half 0 | fitted on half 1 | fitted on all |",
        "|---|---|---|---|",
    ]
    for n in names:
        fp = rep.fold_params[n]
        full = _pstr(rep.full_fit[n]) if n in rep.full_fit else ""
        lines.append(f"| {n} | {_pstr(fp[0])} | {_pstr(fp[1])} | {full} |")
    pc = rep.pooled["compromise"]["mae"]
    lines += [
        "",
        "### 2. Uncertainty: cluster bootstrap and repeated random splits",
        "",
        f"- **Paired cluster bootstrap** of the pooled held-out difference on the fixed split: {N_BOOT} "
        f"resamples of the {rep.n_proposals} proposals with replacement (all issues of a proposal "
        "together), the same resample for the variant and the compromise model. It holds the fitted "
        "parameters fixed, so it measures the sampling noise of the scoring, not of the fit.",
        f"- **Repeated grouped half-splits**: {rep.n_splits} random splits of the proposals into two "
        f"halves (seed `SeedSequence({SPLIT_SEED})`), each fitted both ways as above, so every split "
        "scores every case once. The range over splits shows how much the verdict depends on the "
        "particular split; it is not a confidence interval for the true gain.",
        "",
        "Differences are variant − compromise in held-out MAE: negative means the variant is better.",
        "",
        "| variant | fixed split: difference | bootstrap 95% interval | random splits: mean difference | "
        "median | 2.5-97.5% over splits | splits won | fitted parameters over splits (2.5 / 50 / 97.5%) |",
        "|---|---:|---|---:|---:|---|---:|---|",
    ]
    for n in [*names, SELECTED]:
        b = rep.bootstrap.get(n)
        r = rep.repeated.get(n)
        cells = [n]
        cells += [_signed(b["diff"]), f"[{_signed(b['lo'])}, {_signed(b['hi'])}]"] if b else ["", ""]
        if r:
            cells += [
                _signed(r["mean"]),
                _signed(r["median"]),
                f"[{_signed(r['lo'])}, {_signed(r['hi'])}]",
                f"{100 * r['win_share']:.0f}%",
            ]
        else:
            cells += ["", "", "", ""]
        if n in rep.split_params:
            q = np.percentile(rep.split_params[n], [2.5, 50, 97.5], axis=0)
            cells.append(
                "; ".join(
                    f"{_GREEK.get(k, k)}: {q[0, j]:.3g} / {q[1, j]:.3g} / {q[2, j]:.3g}"
                    for j, k in enumerate(rep.variant_names[n])
                )
            )
        elif n == SELECTED:
            cells.append("chosen: " + ", ".join(f"{v} {100 * w:.0f}%" for v, w in rep.selected_share.items()))
        else:
            cells.append("")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "**Selecting the best of several variants on the same held-out data is itself optimistic** "
        "(Varma & Simon 2006): the variant that looks best on one split partly owes it to luck. The rows "
        'above therefore report every variant, and the last row scores the whole procedure "fit all '
        "three on the fit half, keep the one with the lowest in-sample MAE there, score it on the other "
        'half", with the selection nested inside the fit half.',
        "",
    ]
    # verdict for the pre-declared candidate
    b, r = rep.bootstrap[primary], rep.repeated[primary]
    wins = sum(f[primary] < f["compromise"] for f in rep.folds)
    gain = -b["diff"]
    covers_zero = b["lo"] < 0 < b["hi"]
    text = (
        f"**Verdict.** The {primary} (the `calibrated` engine, declared in advance) "
        + ("beats" if gain > 0 else "does not beat")
        + f" the compromise model out of sample on the fixed split by {abs(gain):.2f} MAE points "
        f"(pooled held-out {rep.pooled[primary]['mae']:.2f} vs {pc:.2f}; better on {wins} of 2 halves), "
        + ("but" if covers_zero else "and")
        + f" the paired cluster bootstrap interval of the difference, [{_signed(b['lo'])}, "
        f"{_signed(b['hi'])}], "
        + ("includes zero" if covers_zero else "excludes zero")
        + f". Over {rep.n_splits} random grouped half-splits it wins {100 * r['win_share']:.0f}% of "
        f"splits with mean gain {-r['mean']:+.2f} [{-r['hi']:+.2f}, {-r['lo']:+.2f}] (2.5-97.5% over "
        f"splits; a negative gain is a loss; median gain {-r['median']:+.2f}). "
    )
    reliable = b["hi"] < 0 and r["mean"] < 0 and r["win_share"] >= 0.95
    if reliable:
        text += "So it beats the compromise model reliably on these data. "
    else:
        text += "So it does not beat the compromise model reliably"
        text += (
            f": the gain on the fixed split is within the noise of {rep.n_cases} issues from "
            f"{rep.n_proposals} proposals"
            if covers_zero
            else ""
        )
        if r["win_share"] > 0.5 and r["mean"] >= 0:
            text += (
                "; over random splits it wins more often than it loses, but it loses by more than it "
                "wins, so the average gain is nil or negative"
            )
        text += ". "
    lam_q = np.percentile(rep.split_params.get(primary, np.zeros((1, 1)))[:, 0], [2.5, 97.5])
    if lam_q[0] <= 0.0 and lam_q[1] >= 1.0:
        text += (
            "The λ fitted on a half ranges over the whole grid from split to split (median "
            f"{np.median(rep.split_params[primary][:, 0]):.2g}), a sign that the data hardly pin it down. "
        )
    others = [n for n in names if n != primary]
    better = [n for n in others if rep.bootstrap[n]["hi"] < 0]
    text += (
        "No other variant beats the compromise model either: "
        + "; ".join(
            f"{n} {_signed(rep.bootstrap[n]['diff'])} on the fixed split"
            + (f", {_signed(rep.repeated[n]['mean'])} over splits" if n in rep.repeated else "")
            for n in others
        )
        + ". "
        if not better
        else "Variants whose bootstrap interval excludes zero: " + ", ".join(better) + ". "
    )
    strategic = [e for e in ("nash", "bdm_scholz", "ktab_smp") if e in rep.engines]
    beaten_by = [e for e in strategic if rep.engines[e]["mae"] < rep.baselines[COMPROMISE]["mae"]]
    if beaten_by:
        named = ", ".join(f"`{e}`" for e in beaten_by)
        text += f"Of the strategic engines, {named} beat the weighted mean. "
    elif strategic:
        text += (
            "None of the strategic engines (" + ", ".join(f"`{e}`" for e in strategic) + ") beats the "
            "weighted mean either, in line with Achen (2006) and Thomson et al. (2006). "
        )
    text += (
        "negsim therefore keeps the compromise model as the reference point forecast; `calibrated` is "
        "offered as an honest alternative of about equal accuracy, and the strategic engines serve for "
        "dynamics (who moves, who is pressed), not for better point forecasts. The sealed hold-out cases "
        "remain the real test of generalisation."
    )
    lines += [text, ""]
    return lines


def render_markdown(rep: ValidationReport, command: str) -> str:
    """Render the ``docs/validation.md`` page: tables, the command that produced them, and what they mean."""
    procs = sorted({k[4:] for s in rep.engines.values() for k in s if k.startswith("mae_")})
    head = "| model | n | MAE | median AE | " + " | ".join(f"MAE {p}" for p in procs) + " |"
    sep = "|---|---:|---:|---:|" + "---:|" * len(procs)

    def row(name, s, extra=""):
        cells = [name + extra, str(s["n"]), _fmt(s["mae"]), _fmt(s["median"])]
        cells += [_fmt(s.get(f"mae_{p}", np.nan)) for p in procs]
        return "| " + " | ".join(cells) + " |"

    labels = {
        "compromise": "`compromise` engine (c × s weighted mean)",
        "nash": "`nash` engine (c-weighted Nash, disagreement at the worst end of the scale)",
        "bdm_scholz": "`bdm_scholz` engine (c × s weighted mean after 10 rounds)",
        "ktab_smp": "`ktab_smp` engine (most probable position at the last turn)",
    }
    lines = [
        "# Engine validation",
        "",
        "Generated by:",
        "",
        "```",
        command,
        "```",
        "",
        f"Data: `{TRAIN}` and `{OUTCOMES}` under `{_shown(rep.data_dir)}` (DEU III, Arregui & Perarnaud "
        "2021, "
        f"CC BY 4.0): {rep.n_cases} EU legislative issues, one dimension each, positions and real outcomes "
        "on 0-100. Error = |prediction - outcome|.",
        "",
        "## Exact replications (tests, not this page)",
        "",
        "- `bdm_scholz` reproduces the EC car-emissions rounds of the Scholz et al. (2011) replication "
        "(every actor, every round, to 1e-6; round-1 risk exponents to 1e-6): `tests/test_engines_bdm.py`.",
        "- `ktab_smp` reproduces both KTAB 2017-05-30 reference runs (every position every turn to the "
        "printed 0.1, every probability to the printed 1e-4, and the turn at which the 2 % stopping rule "
        "fires): `tests/test_engines_ktab.py`.",
        "",
        "## Engines and simple baselines on DEU III",
        "",
        head,
        sep,
    ]
    for eng, s in rep.engines.items():
        lines.append(row(labels.get(eng, eng), s))
    for name, s in rep.baselines.items():
        lines.append(row(f"baseline: {name}", s))
    lines += [
        "",
        "Run time on this machine: "
        + ", ".join(f"{e} {rep.seconds[e]:.1f} s" for e in rep.engines)
        + f" for {rep.n_cases} cases.",
        "",
        "The baselines reproduce the figures in `validation/README.md` (c × s weighted mean 23.25, "
        "salience-weighted 23.74, plain mean 23.23, weighted median 27.75, midpoint 29.34).",
        "",
    ]
    lines += _oos_section(rep)
    lines += [
        "## Why these predictions",
        "",
        "- `bdm_scholz`: Scholz et al. (2011) and BDM (1994) report the capability × salience weighted "
        "mean of positions per round as the model's forecast, and the replication's reference numbers are "
        "those means; the weighted median (the Condorcet winner) is the alternative BDM sometimes quotes. "
        "On the EC example the rounds oscillate rather than converge, so the round-10 mean carries noise "
        "from the oscillation.",
        "- `ktab_smp`: KTAB reports a probability distribution over the actors' positions each turn; the "
        "most probable position at the last turn is its point forecast (the expected position is the "
        "other natural choice).",
        "- Zero saliences (DEU has them) are floored at 1e-6 for `ktab_smp`, which divides by saliences; "
        "in one dimension this leaves distances unchanged and gives such actors a negligible say in "
        "challenges.",
        "",
        "## References",
        "",
        "- Achen, C. H. (2006). Institutional realism and bargaining models. In Thomson et al. (eds.).",
        "- Arregui, J. & Perarnaud, C. (2021). DEU III dataset. doi:10.34810/data53.",
        "- Bueno de Mesquita, B. (1994). Political forecasting: an expected utility method. In Bueno de "
        "Mesquita & Stokman (eds.), *European Community Decision Making*. Yale UP.",
        "- Scholz, J. B., Calbert, G. J. & Smith, G. A. (2011). Unravelling Bueno de Mesquita's group "
        "decision model. *J. Theoretical Politics* 23(4), 510-531.",
        "- Thomson, R., Stokman, F. N., Achen, C. H. & König, T. (eds.) (2006). *The European Union "
        "Decides*. Cambridge UP.",
        "- Wise, B. et al. KTAB, KAPSARC Toolkit for Behavioral Analysis (MIT licence).",
        "",
    ]
    return "\n".join(lines)
