"""Calibrated variants scored out of sample (the third part of the validation harness).

The fixed split by proposal, a paired cluster bootstrap, and repeated grouped random half-splits with
nested selection.

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

import numpy as np
import pandas as pd

from sim.casework.report import N_BOOT, N_SPLITS, SELECTED, SPLIT_SEED, ValidationReport
from sim.casework.scoring import (
    VARIANTS,
    PaddedCases,
    ProcedureWeightedMean,
    Shrinkage,
    WeightShrinkage,
    half_of,
    join_outcomes,
    proposal_id,
)


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
