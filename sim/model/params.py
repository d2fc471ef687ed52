"""Read materialised scenario parameters into the arrays the phases use (shapes (R,), (R, n), (R, n, K)).

``params`` is the output of :func:`sim.scenario.materialise` (nested like the YAML; uncertain leaves are
(R,) arrays, fixed leaves plain numbers or strings; a dirichlet is a mapping of (R,) arrays). Actors are put
in canonical (sorted-id) order, so permuting them in the YAML changes nothing (memo §4.2 guard 1).

Utility units. Saliences are normalised over issues, so one utility unit is "losing every issue by its full
range" (memo §1.3). An optional per-actor ``utility_scale`` u_i (default 1) states the unit in which that
actor's own utility-scale parameters are written (costs, tau, nu, deal bonus, reference and ceasefire
penalties, exclusion penalty, mediator bias, commitment vartheta); scenario-wide utility-scale parameters
(sigma_xi, the not-engaged tau, escalation disutility, mediator misperception, the smoothing eps, the
enforcement scale, tau edits by events) are in normalised units and are multiplied by u_i. Multiplying an
actor's utility_scale and all its own utility-scale parameters by one constant therefore leaves every
outcome unchanged (memo §4.2 guard 1), which a test checks.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from types import SimpleNamespace

import numpy as np
from pydantic import BaseModel

from sim.errors import UserError
from sim.model.events import annual_rate, compile_events, fix_step_probabilities, step_probability
from sim.model.outside_option import war_cost
from sim.model.parameters import Lever, ModelParams
from sim.model.partials import compile_partials
from sim.model.state import ESCALATION
from sim.scenario.schema import (
    ISSUE_ROLES,
    PROTOCOLS,
    ROLES,
    Actor,
    Beliefs,
    Deadlines,
    Economy,
    Modules,
    StatusVote,
    StrainGrowth,
    Strategy,
    Structure,
    SupportFlow,
)

MODULES = tuple(Modules.model_fields)
EPS_UTIL = 0.01  # smoothing of the positive part, normalised utility units (memo §1.1)


def _get(d: dict, path: str, default=None):
    cur = d
    for part in path.split("."):
        if not isinstance(cur, dict) or cur.get(part) is None:
            return default
        cur = cur[part]
    return cur


def _need(d: dict, path: str):
    """Return the value at dotted ``path``, which the scenario schema guarantees (validated scenarios)."""
    value = _get(d, path)
    if value is None:
        raise UserError(f"{path}: missing (the scenario must be validated before the model reads it)")
    return value


def _opt(d: dict, key: str, block: type[BaseModel]):
    """Return ``d[key]``, or the default the scenario schema gives the optional field ``block.key``."""
    value = d.get(key) if isinstance(d, dict) else None
    return block.model_fields[key].default if value is None else value


def _num(v, where: str) -> float:
    """Read a parameter the model uses as one number per run.

    A distribution on it (an (R,) array) is accepted when every replicate has the same value; otherwise a
    UserError names the parameter (these parameters are structural in this version of the model).
    """
    if isinstance(v, (str, dict, list)) or v is None:
        raise UserError(f"{where}: expected a number, got {v!r}")
    a = np.asarray(v, dtype=float).ravel()
    if a.size > 1 and np.ptp(a) > 0:
        raise UserError(
            f"{where}: this parameter must be fixed (the same in every draw); "
            "make it a number instead of a distribution"
        )
    return float(a[0])


def _fixed_choice(v, where: str) -> str:
    """Return a structural choice that must be the same for every replicate of a block (e.g. the protocol)."""
    vals = np.unique(np.asarray(v, dtype=object).ravel().astype(str))
    if vals.size != 1:
        raise UserError(
            f"{where}: must be one value within a run (got {', '.join(vals)}); "
            "run one scenario per value instead of drawing it"
        )
    return str(vals[0])


def _R(v, R: int, where: str = "") -> np.ndarray:
    """Broadcast a number or an (R,) array to a fresh float array of shape (R,)."""
    if isinstance(v, (str, dict, list)) or v is None:
        raise UserError(f"{where}: expected a number, got {v!r}")
    a = np.asarray(v, dtype=float)
    if a.ndim == 1 and a.shape[0] != R:
        raise UserError(f"{where}: expected {R} values, got {a.shape[0]}")
    return np.broadcast_to(a, (R,)).astype(float)


def _actor_col(d: dict | None, actors: list[str], R: int, default: float, where: str) -> np.ndarray:
    """(R, n) array from a mapping actor -> value (missing actors get ``default``)."""
    out = np.full((R, len(actors)), float(default))
    for i, a in enumerate(actors):
        if d is not None and a in d and d[a] is not None:
            out[:, i] = _R(d[a], R, f"{where}.{a}")
    return out


def _issue_vec(d: dict | None, issues: list[str], default: float) -> np.ndarray:
    out = np.full(len(issues), float(default))
    for k, name in enumerate(issues):
        if d is not None and name in d and d[name] is not None:
            out[k] = _num(d[name], name)
    return out


def build_params(params: dict, R: int) -> ModelParams:
    """Turn materialised scenario parameters into the model's typed, read-only parameters.

    Parameters
    ----------
    params : dict
        Materialised scenario (see module docstring).
    R : int
        Number of replicates.

    Returns
    -------
    ModelParams
        Every attribute declared, typed and described in :class:`sim.model.parameters.ModelParams`; (R,)
        arrays for scalars, (R, n) per actor, (R, n, K) per actor-issue. Each section below reads one
        block of the scenario; derived arrays are computed last, once.
    """
    p = ModelParams()
    p.R = R
    p.raw = params
    for section in (_run, _issues, _actors, _economy, _mediator, _war, _beliefs, _commitment, _ripeness,
                    _influence, _acceptance_noise, _ratification, _events, _partials, _protocol,
                    _derived):  # fmt: skip
        section(p, params, R)
    return p.freeze()


def _run(p: ModelParams, params: dict, R: int) -> None:
    """Read the run: steps, horizons, outcome rules and the structural choices (protocol, solver, modules)."""
    sc = params["scenario"]
    p.raw = params
    p.dt = _num(sc["dt_weeks"], "dt_weeks")
    if p.dt <= 0:
        raise UserError("scenario.dt_weeks: must be positive")
    p.dy = p.dt / 52.18
    p.horizon = _num(sc["horizon_weeks"], "horizon_weeks")
    p.n_steps = int(round(p.horizon / p.dt))
    p.horizons = [float(h) for h in sc["reporting_horizons_weeks"]]
    p.start_date = sc["start_date"]
    rules = sc["outcome_rules"]
    p.relapse_counts_as = rules["relapse_counts_as"]
    p.pending_counts_as = rules["pending_ratification_counts_as"]
    if p.relapse_counts_as == "collapse":
        p.relapse_counts_as = "collapse_escalation"
    p.collapse_jump_threshold = _num(rules["collapse_jump_threshold"], "collapse_jump_threshold")
    p.collapse_line_threshold = _num(rules["collapse_line_threshold"], "collapse_line_threshold")
    struct = sc["structure"]
    p.protocol = _fixed_choice(struct["protocol"], "scenario.structure.protocol")
    if p.protocol not in PROTOCOLS:
        raise UserError(
            f"scenario.structure.protocol: unknown protocol {p.protocol!r} (expected {PROTOCOLS})"
        )
    solver = struct["text_solver"]
    p.is_ks = np.broadcast_to(np.asarray(solver) == "kalai_smorodinsky", (R,)).copy()
    p.bdm_mode = _fixed_choice(struct["bdm_mode"], "scenario.structure.bdm_mode")
    p.struct = struct
    shape = _opt(struct, "utility_shape", Structure)
    p.linear_utility = _fixed_choice(shape, "scenario.structure.utility_shape") == "linear"
    mods = params["modules"]
    p.modules = {m: bool(_opt(mods, m, Modules)) for m in MODULES}


def _issues(p: ModelParams, params: dict, R: int) -> None:
    """Read the issues, their options, and the issue that plays each role."""
    issues_d = params["issues"]
    p.issues = list(issues_d)
    p.K = len(p.issues)
    p.options = [sorted(float(o) for o in (issues_d[i] or {}).get("options", [])) for i in p.issues]
    # the rules find an issue by its role (``issues.<id>.role``), never by its id
    p.k = {role: None for role in ISSUE_ROLES}
    for k, iid in enumerate(p.issues):
        role = (issues_d[iid] or {}).get("role")
        if role is not None:
            p.k[role] = k
    p.k_terr = p.k["territory"]  # the territorial issue shares the front line's scale (memo 1.2)


def _actors(p: ModelParams, params: dict, R: int) -> None:
    """Read the actors (sorted ids), their roles, preferences (memo §1.3), costs, thresholds and flows."""
    K = p.K
    # ---- actors (canonical order: sorted ids)
    actors_d = params["actors"]
    p.actors = sorted(actors_d)
    n = p.n = len(p.actors)
    p.roles = {a: list(actors_d[a]["roles"]) for a in p.actors}
    for a, rl in p.roles.items():
        for r in rl:
            if r not in ROLES:
                raise UserError(f"actors.{a}.roles: unknown role {r!r} (expected one of {', '.join(ROLES)})")
    role = lambda r: np.array([r in p.roles[a] for a in p.actors])  # noqa: E731
    p.veto_C, p.veto_F = role("veto_comprehensive"), role("veto_ceasefire")
    p.is_bell, p.is_guar = role("belligerent"), role("guarantor")
    med_name = _need(params, "mediator.actor")
    p.mediator = p.actors.index(med_name) if med_name in p.actors else None
    war = params["war"]
    bells = [a for a in p.actors if "belligerent" in p.roles[a]]
    adv, dfd = _get(war, "advancing"), _get(war, "defending")
    p.adv = p.actors.index(adv) if adv in bells else None
    p.dfd = p.actors.index(dfd) if dfd in bells else None
    p.bell_index = {a: p.actors.index(a) for a in bells}

    p.uscale = np.ones((R, n))
    p.cap = np.ones((R, n))
    p.ideal = np.zeros((R, n, K))
    p.decl0 = np.zeros((R, n, K))
    sal = np.zeros((R, n, K))
    links = []
    for i, a in enumerate(p.actors):
        ad = actors_d[a]
        w = f"actors.{a}"
        p.uscale[:, i] = _R(_opt(ad, "utility_scale", Actor), R, w + ".utility_scale")
        p.cap[:, i] = _R(ad["capability"], R, w + ".capability")
        pos = ad["positions"]
        for k, iss in enumerate(p.issues):
            if iss not in pos:
                raise UserError(f"{w}.positions: missing issue {iss}")
            q = pos[iss]
            p.ideal[:, i, k] = _R(q["ideal"], R, f"{w}.positions.{iss}.ideal")
            p.decl0[:, i, k] = _R(q["declared"], R, f"{w}.positions.{iss}.declared")
            sal[:, i, k] = _R(q["salience"], R, f"{w}.positions.{iss}.salience")
        for ln in ad["linkage"]:
            if ln["a"] not in p.issues or ln["b"] not in p.issues:
                raise UserError(f"{w}.linkage: unknown issue in {ln['a']}-{ln['b']}")
            links.append(
                (i, p.issues.index(ln["a"]), p.issues.index(ln["b"]), _R(ln["kappa"], R, w + ".linkage"))
            )
    tot = sal.sum(-1, keepdims=True)
    if np.any(tot <= 0):
        raise UserError("actors: every actor needs a positive salience on some issue")
    p.sal = sal / tot
    p.sal_raw = sal
    # utility matrices: diag(s~) - 1/2 kappa sqrt(s~a s~b) on (a, b) and (b, a), scaled by u_i (memo §1.3),
    # built once per run of replicates with the same inputs (a draw's paths) and then repeated
    first = _new_inputs(p.sal, p.uscale, *(kap for *_, kap in links))
    u = np.flatnonzero(first)
    sal_u = p.sal[u]
    A = np.zeros((u.size, n, K, K))
    ar = np.arange(K)
    A[:, :, ar, ar] = sal_u
    for i, ka, kb, kap in links:
        off = -0.5 * kap[u] * np.sqrt(sal_u[:, i, ka] * sal_u[:, i, kb])
        A[:, i, ka, kb] += off
        A[:, i, kb, ka] += off
    p.A_runs = _make_pd(A, p.actors) * p.uscale[u][:, :, None, None]
    p.A_run_of = np.cumsum(first) - 1
    p.A = p.A_runs[p.A_run_of]

    def actor_num(key):
        return np.stack([_R(actors_d[a][key], R, f"actors.{a}.{key}") for a in p.actors], 1)

    p.rho = actor_num("discount_rate_per_year")
    p.c0 = actor_num("cost0_per_year")
    p.eta = actor_num("cost_strain_multiplier")
    p.pivot = actor_num("pivot_cost")
    p.deal_bonus = actor_num("deal_bonus")
    p.zeta = actor_num("reference_penalty")
    p.psi = actor_num("ceasefire_penalty")
    p.tau = np.stack(
        [_R(_need(actors_d[a], "accept.tau"), R, f"actors.{a}.accept.tau") for a in p.actors], 1
    )
    p.nu = np.stack(
        [_R(_need(actors_d[a], "accept.nu"), R, f"actors.{a}.accept.nu") for a in p.actors], 1
    )
    # an actor without an exclusion penalty is never excluded (omega_min 0) and pays nothing
    p.excl_tau = np.stack(
        [_R(_get(actors_d[a], "exclusion_penalty.tau_add") or 0.0, R, a) for a in p.actors], 1
    )
    p.excl_min = np.stack(
        [_R(_get(actors_d[a], "exclusion_penalty.omega_min") or 0.0, R, a) for a in p.actors], 1
    )
    # a guarantor consents to foreign forces up to the capacity it declares (1: no limit on the scale)
    caps = [_opt(actors_d[a], "force_capacity_max", Actor) for a in p.actors]
    p.force_cap0 = np.stack(
        [_R(c, R, f"actors.{a}.force_capacity_max") for a, c in zip(p.actors, caps, strict=True)], 1
    )
    _flows(p, actors_d, R)
    p.eps = EPS_UTIL * p.uscale


def _economy(p: ModelParams, params: dict, R: int) -> None:
    """Read the belligerents' war budgets (``actors.<id>.economy``; :mod:`sim.model.economy`)."""
    actors_d, n = params["actors"], p.n
    keys = tuple(Economy.model_fields)
    p.econ = {key: np.zeros((R, n)) for key in keys}
    p.has_economy = np.array([actors_d[a].get("economy") is not None for a in p.actors])
    for i, a in enumerate(p.actors):
        ec = actors_d[a].get("economy")
        if ec is not None:
            for key in keys:
                p.econ[key][:, i] = _R(ec[key], R, f"actors.{a}.economy.{key}")
    # the indices the revenue is measured against: their values at t0
    p.econ_S0 = p.sanctions0 @ p.sanctions_w
    p.econ_l0 = p.lifeline["l0"] @ p.lifeline_to


def _mediator(p: ModelParams, params: dict, R: int) -> None:
    """Read the mediator: text weights, round rate, frustration, levers, walk-away, deadlines, ceasefires."""
    md = params["mediator"]
    w0 = md["text_weights0"]
    om = _actor_col(w0 if isinstance(w0, dict) else None, p.actors, R, 0.0, "mediator.text_weights0")
    if om.sum(1).min() <= 0:
        om = p.cap.copy()
    p.omega0 = om / om.sum(1, keepdims=True)
    p.nonveto_weight = _num(md["nonveto_weight"], "nonveto_weight")
    p.nu0 = _R(md["round_rate_per_week"], R, "mediator.round_rate_per_week")
    p.nu_F = _num(md["frustration_round_multiplier"], "frustration_round_multiplier")
    p.phi_F = _num(md["frustration_decay_per_year"], "frustration_decay_per_year")
    p.prox = _num(md["prox_weight"], "prox_weight")
    p.opening_text = opening = md.get("opening_text")
    p.X_open = None if opening is None else np.array(
        [float(params["packages"][opening]["terms"][iss]) for iss in p.issues]
    )
    p.sigma_med = _num(md["misperception_sd"], "misperception_sd") * p.uscale
    p.med_bias = _actor_col(md.get("bias"), p.actors, R, 0.0, "mediator.bias")
    p.blame_bias = _actor_col(md.get("blame_bias"), p.actors, 1, 0.0, "mediator.blame_bias")[0]
    p.lev_rate = _num(md["leverage_rate"], "leverage_rate")
    lev = md["levers"]
    p.levers = {}
    for key, spec in lev.items():
        a = key.removeprefix("on_")
        if a not in p.actors:
            raise UserError(f"mediator.levers.{key}: unknown actor {a!r}")
        tgt = spec.get("target")
        op = "set" if "set" in spec else "add" if "add" in spec else "mul" if "mul" in spec else None
        if tgt not in ("support", "sanctions", "omega") or op is None:
            raise UserError(f"mediator.levers.{key}: expected target support|sanctions|omega and set/add/mul")
        p.levers[p.actors.index(a)] = Lever(
            target=tgt,
            op=op,
            value=_R(spec[op], R, f"mediator.levers.{key}.{op}"),
            duration=_R(spec.get("duration_weeks", np.inf), R, f"mediator.levers.{key}.duration_weeks"),
            leverage=p.uscale[:, p.actors.index(a)]
            * _R(spec["leverage"] if spec.get("leverage") is not None else 0.0, R, f"{key}.leverage"),
        )
    p.walk_rate = _num(md["walkaway_hazard_per_year_per_F"], "walkaway_hazard_per_year_per_F")
    p.walk_pause = _num(_need(md, "walkaway.pause_weeks"), "walkaway.pause_weeks")
    p.walk_support = _num(_need(md, "walkaway.support_set"), "walkaway.support_set")
    p.deadline_rate = _num(_need(md, "deadlines.rate_per_week"), "deadlines.rate_per_week")
    p.deadline_add = _num(_need(md, "deadlines.frustration_add"), "deadlines.frustration_add")
    start = _dt.date.fromisoformat(str(p.start_date))
    p.deadline_weeks = tuple(sorted((_dt.date.fromisoformat(str(d)) - start).days / 7.0
                                    for d in md["deadlines"].get("dates") or ()))  # fmt: skip
    p.cf_threshold = _num(md["ceasefire_threshold"], "ceasefire_threshold")
    p.cf_forces = _num(md["ceasefire_monitoring_forces"], "ceasefire_monitoring_forces")
    p.cf_settle = _R(md["ceasefire_settlement_prob"], R, "mediator.ceasefire_settlement_prob")
    # the strategic mediator (modules.strategic_mediator): deadline credibility and when to re-table
    p.deadline_cred = _R(_opt(md["deadlines"], "credibility", Deadlines), R, "mediator.deadlines.credibility")
    st = md.get("strategy") or {}
    interval = _opt(st, "reference_round_interval_weeks", Strategy)
    p.ref_round_interval = _num(interval, "mediator.strategy.reference_round_interval_weeks")
    p.retable_text_tol = _num(_opt(st, "text_tolerance", Strategy), "mediator.strategy.text_tolerance")
    p.retable_line_tol = _num(_opt(st, "line_tolerance", Strategy), "mediator.strategy.line_tolerance")
    p.retable_option_tol = _num(_opt(st, "option_tolerance", Strategy), "option_tolerance") * p.uscale
    # the UN-supervised status vote (modules.status_vote): who the contested area joins, and on what terms
    vote = md.get("status_vote") or {}
    p.vote_p_join = _R(vote.get("p_join", 0.0), R, "mediator.status_vote.p_join")
    p.vote_return_line = _num(_opt(vote, "return_line", StatusVote), "mediator.status_vote.return_line")
    p.vote_recognition_if_join = _num(_opt(vote, "recognition_if_join", StatusVote),
                                      "mediator.status_vote.recognition_if_join")  # fmt: skip


def _war(p: ModelParams, params: dict, R: int) -> None:
    """Read the battlefield: the line, its drift and jumps, strain, the war's end terms (memo §1.4)."""
    war = params["war"]
    p.L0 = _num(war["L0"], "L0")
    p.L_min = _num(war["L_min"], "L_min")
    p.mu0 = _R(war["drift_per_year"], R, "war.drift_per_year")
    p.sigma_L = _R(war["vol_per_sqrt_year"], R, "war.vol_per_sqrt_year")
    p.beta_A = _R(war["aid_sensitivity"], R, "war.aid_sensitivity")
    # the defender's support index at t0: the drift is stated relative to the support of the start date
    p.A0 = (p.support0 @ p.support_w[:, p.dfd]) if p.dfd is not None else np.zeros(R)
    ss = war["strain_sensitivity"]
    p.beta_strain = _actor_col(ss, p.actors, R, 0.0, "war.strain_sensitivity")
    sg = war["strain_growth_per_year"]
    p.strain_a = _actor_col(
        {a: (sg.get(a) or {}).get("a", 0.0) for a in p.actors}, p.actors, R, 0.0, "strain.a"
    )
    p.strain_b = {
        key: np.array([_num(_opt(sg.get(a) or {}, key, StrainGrowth), f"strain.{a}.{key}") for a in p.actors])
        for key in ("b_support", "b_sanctions", "b_lifeline")
    }
    p.strain_recovery = _num(war["strain_recovery_per_year"], "strain_recovery_per_year")
    cj = war["collapse_jump"]
    p.col_rate = annual_rate(_R(cj["annual_prob"], R, "war.collapse_jump.annual_prob"))
    p.col_k = _num(cj["k_strain"], "k_strain")
    p.col_lo, p.col_hi = (
        _num(cj["size_low"], "size_low"),
        _num(cj["size_high"], "size_high"),
    )
    cn = war["counteroffensive_jump"]
    p.cnt_rate = annual_rate(_R(cn["annual_prob"], R, "war.counteroffensive_jump.annual_prob"))
    p.cnt_lo, p.cnt_hi = (
        _num(cn["size_low"], "size_low"),
        _num(cn["size_high"], "size_high"),
    )
    we = war["war_end_terms"]
    p.x_dfd_max = _issue_vec(we.get("defender_max"), p.issues, 0.0)
    p.x_adv_max = _issue_vec(we.get("advancer_max"), p.issues, 1.0)
    p.L_lo, p.L_hi = _num(we["L_lo"], "L_lo"), _num(we["L_hi"], "L_hi")
    p.x_sq = _issue_vec(war.get("status_quo_during_war"), p.issues, 0.0)
    p.I_cf = _num(war["ceasefire_intensity"], "ceasefire_intensity")
    p.I_relapse = _num(war["relapse_intensity"], "relapse_intensity")
    p.relapse_weeks = _num(war["relapse_weeks"], "relapse_weeks")
    p.H = _num(war["horizon_years"], "horizon_years")
    p.D = _R(war["escalation_disutility"], R, "war.escalation_disutility")[:, None] * p.uscale


def _beliefs(p: ModelParams, params: dict, R: int) -> None:
    """Read the beliefs about the drift and the collapse hazard (memo P3)."""
    n = p.n
    bl = params["beliefs"]
    p.m0 = _actor_col(bl.get("drift_prior_mean"), p.actors, R, 0.0, "beliefs.drift_prior_mean")
    sd0 = _R(bl["drift_prior_sd"], R, "beliefs.drift_prior_sd")
    p.P0 = np.repeat((1.0 / sd0**2)[:, None], n, 1)
    p.forget = _num(bl["forgetting_per_year"], "forgetting_per_year")
    p.col_belief = _actor_col(bl.get("collapse_hazard_belief_per_year"), p.actors, R, 0.0, "beliefs.collapse")
    p.fatigue0 = _actor_col(bl.get("support_fatigue_per_year"), p.actors, R, 0.0, "beliefs.support_fatigue")
    p.fatigue_memory = _num(_opt(bl, "fatigue_memory_years", Beliefs), "beliefs.fatigue_memory_years")


def _commitment(p: ModelParams, params: dict, R: int) -> None:
    """Read the perceived reneging hazard and the power shift; the true breakdown hazard (memo P5)."""
    n, K = p.n, p.K
    cm = params["commitment"]
    p.H_c = _num(cm["horizon_years"], "horizon_years")
    p.theta = _R(cm["guarantee_credibility"], R, "commitment.guarantee_credibility")
    per = cm["perceived"]
    p.h0 = _actor_col(
        {a: (per.get(a) or {}).get("h0_per_year", 0.0) for a in p.actors}, p.actors, R, 0.0, "h0"
    )

    def gam(key: str) -> np.ndarray:
        return np.array(
            [_num((per.get(a) or {}).get(key, 0.0), f"commitment.perceived.{a}.{key}") for a in p.actors]
        )

    p.g_guar, p.g_forces, p.g_dmz, p.g_shift = (
        gam("gamma_guarantee"),
        gam("gamma_forces"),
        gam("gamma_dmz"),
        gam("gamma_shift"),
    )
    p.vartheta = np.broadcast_to(gam("vartheta"), (R, n)).copy()  # own utility units (per-actor block)
    # deal-induced power shift, shift_i(X) = c_i + l_i'X + w_i sp(X_T - L)  (memo P5)
    p.shift_lin = np.zeros((n, K))
    p.shift_const = np.zeros((R, n))
    p.shift_wd = np.zeros(n)
    kk = p.k
    for i, a in enumerate(p.actors):
        sh = (per.get(a) or {}).get("shift", {}) or {}
        for key, wgt in sh.items():
            wgt = _num(wgt, f"commitment.perceived.{a}.shift.{key}")
            if key == "army_cap" and kk["army_cap"] is not None:
                p.shift_lin[i, kk["army_cap"]] += wgt
            elif key == "withdrawal":
                p.shift_wd[i] += wgt
            elif key == "sanctions_relief" and kk["sanctions_relief"] is not None:
                p.shift_lin[i, kk["sanctions_relief"]] += wgt
            elif key == "nato_open" and kk["alliance"] is not None:
                # the fear of an open alliance path follows the actor's stated demand (its declared position
                # at t0): a softer public demand is a smaller shift when the text stops short of it
                p.shift_const[:, i] += wgt * p.decl0[:, i, kk["alliance"]]
                p.shift_lin[i, kk["alliance"]] -= wgt
            elif key == "forces" and kk["forces"] is not None:
                p.shift_lin[i, kk["forces"]] += wgt
            elif key == "army_uncapped" and kk["army_cap"] is not None:
                p.shift_const[:, i] += wgt
                p.shift_lin[i, kk["army_cap"]] -= wgt
            elif key not in (
                "army_cap",
                "withdrawal",
                "sanctions_relief",
                "nato_open",
                "forces",
                "army_uncapped",
            ):
                raise UserError(f"commitment.perceived.{a}.shift: unknown term {key!r}")
    tb = cm["true_breakdown"]
    p.hb0 = _R(tb["h0_per_year"], R, "commitment.true_breakdown.h0_per_year")
    g = tb["gamma"]
    p.gb = {
        key: _num(g.get(key, 0.0), f"commitment.true_breakdown.gamma.{key}")
        for key in ("guarantee", "forces", "dmz", "comprehensive", "joint_commission")
    }
    p.coerced_mult = _num(tb["coerced_multiplier"], "coerced_multiplier")
    p.h_enf = _num(_need(tb, "enforcement.h_enf"), "enforcement.h_enf")
    p.enf_scale = _num(_need(tb, "enforcement.scale"), "enforcement.scale") * p.uscale


def _ripeness(p: ModelParams, params: dict, R: int) -> None:
    """Read the mutually-hurting-stalemate test and engagement (memo P6)."""
    rp = params["ripeness"]
    p.cost_rel = _actor_col(rp.get("cost_threshold_rel"), p.actors, 1, 1.0, "ripeness.cost_threshold_rel")[0]
    p.victory = _actor_col(rp.get("victory_threshold"), p.actors, 1, 0.0, "ripeness.victory_threshold")[0]
    p.kappa_c, p.kappa_p = _num(rp["kappa_c"], "kappa_c"), _num(rp["kappa_p"], "kappa_p")
    p.p_bar = _num(rp["p_bar"], "p_bar")
    p.eng_rate, p.dis_rate = (
        _num(rp["engage_rate_per_year"], "engage_rate_per_year"),
        _num(rp["disengage_rate_per_year"], "disengage_rate_per_year"),
    )
    p.tau_ne = _num(rp["not_engaged_tau"], "not_engaged_tau") * p.uscale


def _influence(p: ModelParams, params: dict, R: int) -> None:
    """Read concession and BDM pressure on declared positions (memo P7a)."""
    inf = params["influence"]
    p.eta_c = _num(inf["concession_rate_per_year"], "concession_rate_per_year")
    p.eta_p = _num(inf["pressure_rate_per_year"], "pressure_rate_per_year")
    p.beta_ch = _num(inf["challenge_sharpness"], "challenge_sharpness")
    p.Q = _num(inf["status_quo_prob"], "status_quo_prob")


def _acceptance_noise(p: ModelParams, params: dict, R: int) -> None:
    """Read the reservation shocks (memo P9)."""
    an = params["acceptance_noise"]
    p.sigma_xi = _R(an["sigma_xi"], R, "acceptance_noise.sigma_xi")[:, None] * p.uscale
    p.T_xi = _R(an["T_xi_weeks"], R, "acceptance_noise.T_xi_weeks")


def _ratification(p: ModelParams, params: dict, R: int) -> None:
    """Read the ratification instruments the scenario declares (memo P9)."""
    # ---- ratification: each instrument is held by the actor the scenario names (memo 1.5 P9)
    rt = params["ratification"]
    # (an instrument the scenario does not declare is never required; its numbers are then not read)
    p.rat_delay = _num(rt["delay_weeks"], "delay_weeks")
    ref = rt.get("referendum")
    p.has_referendum = ref is not None
    if ref is not None:
        p.ref_cession = _num(_need(ref, "required_if.terr_cession_gt"), "required_if.terr_cession_gt")
        p.ref_recog = _num(_need(ref, "required_if.recog_ge"), "required_if.recog_ge")
        p.ref_min_weeks = _num(ref["min_ceasefire_days"], "min_ceasefire_days") / 7.0
        p.ref_logit = {k: _num(v, f"support_logit.{k}") for k, v in ref["support_logit"].items()}
        p.ref_sigma = _num(ref["sigma_poll"], "sigma_poll")
    leg = rt.get("legislature")
    p.has_legislature = leg is not None
    if leg is not None:
        p.legislature_p = _R(leg["p_pass"], R, "ratification.legislature.p_pass")
        p.legislature_guar = _num(leg["required_if_guarantee_ge"], "legislature.required_if_guarantee")
    una = rt.get("unanimity")
    p.has_unanimity = una is not None
    if una is not None:
        p.unanimity_p_base = _R(una["p_base"], R, "ratification.unanimity.p_base")
        p.unanimity_p_assets = _R(una["p_if_assets_returned"], R, "unanimity.p_if_assets_returned")


def _events(p: ModelParams, params: dict, R: int) -> None:
    """Compile the scenario's events."""
    p.events, p.branch_keys, p.n_event_slots = compile_events(
        params["events"], p.actors, R, p.start_date, p.uscale
    )
    fix_step_probabilities(p.events, p.dt)
    p.event_ids = [e.id for e in p.events]
    p.esc_events = [
        e for e in p.events if any(f.kind == "status" and f.index == ESCALATION for f in e.effects)
    ]


def _partials(p: ModelParams, params: dict, R: int) -> None:
    """Compile the partial agreements (none unless ``modules.partial_agreements`` is on)."""
    section = params.get("partial_agreements") if p.modules["partial_agreements"] else None
    p.partials = compile_partials(section or {}, p.actors, R, p.uscale)
    for pa in p.partials:  # fixed rates: their probabilities per step once (sim.model.partials)
        pa.p_propose, pa.p_break = step_probability(pa.rate, p.dt), step_probability(pa.breakdown, p.dt)
    p.partial_slots = sum(pa.width for pa in p.partials)


def _protocol(p: ModelParams, params: dict, R: int) -> None:
    """Read the settings of the protocols other than mediation."""
    struct = params["scenario"]["structure"]
    p.first_proposer = _get(struct, "first_proposer")
    p.bargainers = list(_get(struct, "bargainers") or [])
    p.round_interval = _get(struct, "round_interval_weeks")
    p.private_cost_high = _num(_opt(struct, "private_cost_high", Structure), "private_cost_high")
    p.win_prob = _R(_opt(struct, "win_prob", Structure), R, "scenario.structure.win_prob")


def _derived(p: ModelParams, params: dict, R: int) -> None:
    """Derive arrays from the parameters alone, computed once: nothing patches the parameters later."""
    actors_d, n = params["actors"], p.n
    # ---- derived from the parameters alone, once: nothing patches the parameters later
    p.W_fixed = -p.uscale.copy()  # fixed disagreement values; default the worst outcome, in own units
    for i, a in enumerate(p.actors):
        if actors_d[a].get("disagreement_value") is not None:
            p.W_fixed[:, i] = _R(actors_d[a]["disagreement_value"], R, f"actors.{a}.disagreement_value")
    # ripeness measures each belligerent's war cost against its cost at the start (memo P6)
    at_start = SimpleNamespace(strain=np.zeros((R, n)), support=p.support0, cost_mult=np.ones((R, n)),
                               fiscal_stress=np.zeros((R, n)))
    p.c_ref = p.cost_rel * war_cost(p, at_start, slice(None), np.ones(R))


def _flows(p: ModelParams, actors_d: dict, R: int) -> None:
    """Support, sanctions and lifelines between actors, as matrices over (giver, belligerent).

    ``support0``/``sanctions0`` (R, n): each actor's level at t0 (0 if it gives none); ``support_w`` and
    ``sanctions_w`` (n, n): the giver's share in the receiving belligerent's index (the declared weights
    normalised over the givers of each belligerent), so the indices are ``support @ support_w``, weighted
    averages of the givers' levels (memo 1.4: A = w_US A_US + (1 - w_US) A_EU for Ukraine);
    ``lifeline_to`` (n, n) marks each patron's client; ``secondary`` (n, n) whose sanctions a patron
    backs off from; ``package_cadence``/``package_increment`` (n,) sanctions packages on a calendar.
    """
    n = len(p.actors)
    p.support0, p.sanctions0 = np.zeros((R, n)), np.zeros((R, n))
    p.support_w, p.sanctions_w, p.lifeline_to = np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n))
    p.secondary = np.zeros((n, n), bool)
    p.package_cadence, p.package_increment = np.zeros(n), np.zeros(n)
    p.lifeline = {k: np.zeros((R, n)) for k in ("l0", "kappa_l", "alpha_norm", "alpha_sanctions")}
    p.rally_line, p.rally_rate = np.full(n, np.inf), np.zeros(n)
    for i, a in enumerate(p.actors):
        w = f"actors.{a}"
        sup, san, lif = (actors_d[a].get(key) or {} for key in ("support", "sanctions", "lifeline"))
        if sup.get("to") in p.actors:
            p.support0[:, i] = _R(sup.get("level0", 0.0), R, w + ".support.level0")
            p.support_w[i, p.actors.index(sup["to"])] = _num(sup.get("weight", 1.0), w + ".support.weight")
            if sup.get("rally_line") is not None:
                p.rally_line[i] = _num(sup["rally_line"], w + ".support.rally_line")
                rate = _opt(sup, "rally_per_year", SupportFlow)
                p.rally_rate[i] = _num(rate, w + ".support.rally_per_year")
        if san.get("against") in p.actors:
            p.sanctions0[:, i] = _R(san.get("level0", 0.0), R, w + ".sanctions.level0")
            weight = _num(san.get("weight", 1.0), w + ".sanctions.weight")
            p.sanctions_w[i, p.actors.index(san["against"])] = weight
            p.package_cadence[i] = _num(san.get("package_cadence_weeks") or 0.0, w + ".sanctions.cadence")
            p.package_increment[i] = _num(san.get("package_increment") or 0.0, w + ".sanctions.increment")
        if lif.get("to") in p.actors:
            p.lifeline_to[i, p.actors.index(lif["to"])] = 1.0
            for k in p.lifeline:
                p.lifeline[k][:, i] = _R(lif.get(k, 0.0), R, f"{w}.lifeline.{k}")
            for b in lif.get("secondary_sanctions_from") or []:
                p.secondary[i, p.actors.index(b)] = True
    for w in (p.support_w, p.sanctions_w):
        total = w.sum(axis=0)
        w /= np.where(total > 0, total, 1.0)
    p.is_supporter = p.support_w.any(axis=1)
    p.is_patron = p.lifeline_to.any(axis=1)


def _new_inputs(*arrays: np.ndarray) -> np.ndarray:
    """Return (R,) bool: where a replicate's inputs differ from the previous replicate's (True at 0).

    The paths of one parameter draw are consecutive replicates with equal inputs; what is derived from
    those inputs alone is computed once per run of equal rows.
    """
    R = arrays[0].shape[0]
    first = np.zeros(R, dtype=bool)
    first[:1] = True
    for a in arrays:
        a = a.reshape(R, -1)
        first[1:] |= np.any(a[1:] != a[:-1], axis=1)
    return first


def _make_pd(A: np.ndarray, actors: list[str], floor: float = 0.05) -> np.ndarray:
    """Keep every A_i positive definite: shrink an actor's linkage terms where its matrix is not.

    The memo (§1.3) asks for the smallest eigenvalue of A_i to be positive. Where the eigenvalue of the
    salience-normalised matrix D^{-1/2} A D^{-1/2} falls below ``floor``, the off-diagonal (linkage) part is
    scaled down until it equals ``floor``; this keeps the sparsity of A and the sign of every linkage, and
    a warning names the actor. ``A`` holds each draw's matrices once (see :func:`_actors`), so the warning
    counts draws.
    """
    d = np.sqrt(np.maximum(np.diagonal(A, axis1=-2, axis2=-1), 1e-300))
    off_any = np.any(A - np.einsum("...kk->...k", A)[..., None] * np.eye(A.shape[-1]) != 0, axis=(-2, -1))
    if not off_any.any():
        return A
    Nrm = A / (d[..., :, None] * d[..., None, :])
    lam = np.linalg.eigvalsh(Nrm[off_any])[..., 0]
    bad = lam < floor
    if not bad.any():
        return A
    A = A.copy()
    where = np.argwhere(off_any)[bad]
    names = sorted({actors[j] for j in where[:, 1]})
    warnings.warn(
        f"linkage makes the utility matrix of {', '.join(names)} not positive definite in "
        f"{len(where)} draw(s); linkage shrunk to keep the smallest eigenvalue at {floor}",
        stacklevel=3,
    )
    alpha = (1.0 - floor) / (
        1.0 - lam[bad]
    )  # the off-diagonal eigen-part of the normalised matrix is lam - 1
    sub = A[where[:, 0], where[:, 1]]
    diag = np.einsum("...kk->...k", sub)[..., None] * np.eye(A.shape[-1])
    A[where[:, 0], where[:, 1]] = diag + alpha[:, None, None] * (sub - diag)
    return A
