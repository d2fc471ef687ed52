"""The engine validation harness.

Every engine and baseline on DEU III, and calibrated variants scored out of sample; renders
``docs/validation.md``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.casework.adapters import ENGINES
from sim.casework.data import read_cases, read_outcomes
from sim.casework.run import predictions_frame, run_cases
from sim.casework.scoring import (
    ProcedureWeightedMean,
    Shrinkage,
    baseline_predictions,
    half_of,
    join_outcomes,
    summarise,
)
from sim.errors import UserError

TRAIN, OUTCOMES = "deu3/deu3_train.csv", "deu3/deu3_train_outcomes.csv"
COMPROMISE = "capability × salience weighted mean"


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


def validate_engines(data_dir: str | Path, engines=ENGINES, progress: bool = False) -> ValidationReport:
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

    # out of sample: fit on one half, predict the other; pool the two held-out halves
    procs = outcomes.drop_duplicates("case").set_index("case")["procedure"].astype(str).to_dict()
    comp = join_outcomes(preds[COMPROMISE], outcomes)
    held: dict[str, list[pd.DataFrame]] = {"compromise": [], "procedure-weighted mean": [], "shrinkage": []}
    for h in (0, 1):
        train = [c for c in cases if half_of(c.name) == h]
        test = [c for c in cases if half_of(c.name) != h]
        test_ids = {c.name for c in test}
        pwm = ProcedureWeightedMean().fit(train, outcomes[outcomes["case"].map(half_of) == h])
        j_pwm = join_outcomes(pwm.predict(test, procs), outcomes)
        tr = comp[comp["case"].map(half_of) == h]
        shr = Shrinkage().fit(tr["prediction"].to_numpy(), tr["outcome"].to_numpy())
        te = comp[comp["case"].isin(test_ids)].copy()
        j_shr = te.assign(prediction=shr.predict(te["prediction"].to_numpy()))
        j_shr["abs_error"] = (j_shr["prediction"] - j_shr["outcome"]).abs()
        held["compromise"].append(te)
        held["procedure-weighted mean"].append(j_pwm)
        held["shrinkage"].append(j_shr)
        rep.folds.append(
            {
                "fit_half": h,
                "n_fit": len(train),
                "n_test": len(test),
                "compromise": summarise(te)["mae"],
                "procedure-weighted mean": summarise(j_pwm)["mae"],
                "shrinkage": summarise(j_shr)["mae"],
                "pwm_params": {
                    "gamma": pwm.gamma,
                    **{f"{p}:{a}": v for (p, a), v in sorted(pwm.mult.items())},
                },
                "shrink_params": {"a": shr.a, "b": shr.b},
            }
        )
    for name, parts in held.items():
        rep.pooled[name] = summarise(pd.concat(parts, ignore_index=True))
    return rep


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _fmt(v: float) -> str:
    return f"{v:.2f}"


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
        "## Can a calibrated variant beat the compromise model out of sample?",
        "",
        "The cases are split in two by a fixed hash of the proposal id (SHA-256 of `d00060` for "
        "`d00060i2`, modulo 2), so that the issues of one proposal stay on one side. Each variant is fitted "
        "on one half and scored on the other, then the halves swap; the pooled row scores every case once, "
        "with the model fitted on the half it is not in.",
        "",
        "- **procedure-weighted mean**: weights c · s^γ · m, with multipliers m in {0, ½, 1, 2, 4} for the "
        "Commission and for the Parliament under each procedure (COD: co-decision, the Parliament has a "
        "veto; CNS: consultation, it has not) and γ in {0, ½, 1}, by grid search. The procedure is known "
        "before the outcome, so this uses information the plain compromise model ignores.",
        "- **shrinkage**: a + b · (compromise), fitted by least absolute deviations.",
        "",
        "The data carry no status quo (reference point), so the suggested Nash variant with the status quo "
        "as disagreement point cannot be built from them; the `nash` engine uses each actor's worst end of "
        "the scale instead (with that choice salience cancels out of the first-order condition, and the "
        "solution is a capability-weighted compromise pulled toward the centre of the scale).",
        "",
        "| fitted on half | n fit | n scored | compromise | procedure-weighted mean | shrinkage | "
        "fitted parameters |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for f in rep.folds:
        params = ", ".join(f"{k}={v:g}" for k, v in f["pwm_params"].items())
        sp = f["shrink_params"]
        lines.append(
            f"| {f['fit_half']} | {f['n_fit']} | {f['n_test']} | {_fmt(f['compromise'])} | "
            f"{_fmt(f['procedure-weighted mean'])} | {_fmt(f['shrinkage'])} | "
            f"pwm: {params}; shrinkage: a={sp['a']:.2f}, b={sp['b']:.3f} |"
        )
    pc = rep.pooled["compromise"]["mae"]
    lines.append(
        f"| pooled | | {rep.pooled['compromise']['n']} | {_fmt(pc)} | "
        f"{_fmt(rep.pooled['procedure-weighted mean']['mae'])} | {_fmt(rep.pooled['shrinkage']['mae'])} | |"
    )
    wins = {
        name: [f[name] < f["compromise"] for f in rep.folds]
        for name in ("procedure-weighted mean", "shrinkage")
    }
    verdicts = []
    for name, w in wins.items():
        pooled = rep.pooled[name]["mae"]
        if all(w) and pooled < pc:
            verdicts.append(
                f"the {name} beats the compromise model on both held-out halves "
                f"(pooled {pooled:.2f} vs {pc:.2f})"
            )
        else:
            verdicts.append(
                f"the {name} does not beat the compromise model reliably: it wins on {sum(w)} of 2 "
                f"held-out halves, "
                f"pooled {pooled:.2f} vs {pc:.2f}"
            )
    stable = rep.folds[0]["pwm_params"] == rep.folds[1]["pwm_params"]
    strategic = [e for e in ("nash", "bdm_scholz", "ktab_smp") if e in rep.engines]
    beaten_by = [e for e in strategic if rep.engines[e]["mae"] < rep.baselines[COMPROMISE]["mae"]]
    joined = "; ".join(verdicts)
    text = "**Verdict.** " + joined[0].upper() + joined[1:] + ". "
    text += (
        "The fitted multipliers are the same on both halves. "
        if stable
        else "The fitted multipliers change from one half to the other, a sign that they fit noise in about "
        "a hundred issues rather than a stable institutional effect. "
    )
    if beaten_by:
        names = ", ".join(f"`{e}`" for e in beaten_by)
        text += f"Of the strategic engines, {names} beat the weighted mean. "
    else:
        text += (
            "None of the strategic engines (" + ", ".join(f"`{e}`" for e in strategic) + ") beats the "
            "weighted mean either, in line with Achen (2006) and Thomson et al. (2006). negsim therefore "
            "keeps the compromise model as the reference point forecast and uses the strategic engines for "
            "dynamics (who moves, who is pressed), not for better point forecasts. "
        )
    text += "The sealed hold-out cases remain the real test of generalisation."
    lines += [
        "",
        text,
        "",
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
