"""The distribution grammar of scenario files: checking a spec and mapping uniforms to values.

Any number in a scenario may be replaced by one of these specs (model memo section 2.1). They describe
*epistemic* uncertainty: one value is drawn per parameter draw. Each distribution is written as the
quantile function (ppf) of a uniform, so that Latin hypercube stratification and the Gaussian copula of
``correlations:`` (Nelsen 2006, ch. 2) both act on the uniform scale and the marginals stay exact.

================  ==========================================  =========================================
spec              meaning                                     notes
================  ==========================================  =========================================
beta              Beta(m k, (1-m) k)                          optional ``low``/``high`` rescale; ``mean``
                                                              is then on the rescaled scale
annual_prob       Beta(m k, (1-m) k) on P(event within 1 yr)  the model converts: rate = -ln(1 - p)
lognormal         exp N(ln median, ln gsd)                    mean = median exp(ln(gsd)^2 / 2)
gamma             Gamma(shape 1/cv^2, scale mean cv^2)        mean ``mean``, sd ``mean * cv``
normal            N(mean, sd), optionally truncated           truncation by ``low``/``high``
dirichlet         Dirichlet(mean_k * concentration)           ``mean`` is a mapping KEY -> share
choice            categorical over ``options``                ``probs`` sum to 1
uniform           U(low, high)
================  ==========================================  =========================================

References
----------
Johnson, Kotz & Balakrishnan (1995), *Continuous Univariate Distributions*, vol. 2 (beta: sd =
sqrt(m(1-m)/(k+1))). Nelsen (2006), *An Introduction to Copulas*, 2nd ed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.scenario.problems import did_you_mean

#: Parameters of each distribution: (required, optional).
PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "beta": (("mean", "kappa"), ("low", "high")),
    "annual_prob": (("mean", "kappa"), ()),
    "lognormal": (("median", "gsd"), ()),
    "gamma": (("mean", "cv"), ()),
    "normal": (("mean", "sd"), ("low", "high")),
    "dirichlet": (("mean", "concentration"), ()),
    "choice": (("options", "probs"), ()),
    "uniform": (("low", "high"), ()),
}
DISTS = tuple(PARAMS)
#: Tolerance on probabilities and shares summing to one.
SUM_TOL = 1e-6

Issue = tuple[tuple[str, ...], str]  # (sub-path inside the spec, message)


def _stats():  # scipy.stats is slow to import; validation alone does not need it
    from scipy import stats

    return stats


def _norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def is_dist(value: object) -> bool:
    """Whether a value is a distribution spec (a mapping with a ``dist`` key)."""
    return isinstance(value, dict) and "dist" in value


def _is_num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def check_spec(spec: dict) -> list[Issue]:
    """Check a distribution spec; return ``[(subpath, message), ...]`` (empty if valid)."""
    name = spec.get("dist")
    if not isinstance(name, str) or name not in PARAMS:
        hint = did_you_mean(name, DISTS) if isinstance(name, str) else ""
        return [(("dist",), f"unknown distribution {name!r} ({hint}expected one of: {', '.join(DISTS)})")]
    required, optional = PARAMS[name]
    issues: list[Issue] = []
    allowed = ("dist", *required, *optional)
    for key in spec:
        if key not in allowed:
            issues.append(((str(key),), f"unknown key for {name} ({did_you_mean(key, allowed)}expected: "
                           f"{', '.join(allowed[1:])})"))
    for key in required:
        if key not in spec:
            issues.append(((key,), f"missing (a {name} needs: {', '.join(required)})"))
    if issues:
        return issues
    numeric = [k for k in (*required, *optional) if k in spec and k not in ("options", "probs")
               and not (name == "dirichlet" and k == "mean")]
    for key in numeric:
        if not _is_num(spec[key]):
            issues.append(((key,), f"got {spec[key]!r} (expected a finite number)"))
    if issues:
        return issues
    return _CHECKS[name](spec)


def _positive(spec: dict, key: str, what: str = "") -> list[Issue]:
    if spec[key] <= 0:
        return [((key,), f"must be > 0, got {spec[key]} (expected {what or 'a positive number'})")]
    return []


def _low_high(spec: dict) -> list[Issue]:
    if "low" in spec and "high" in spec and spec["low"] >= spec["high"]:
        return [(("high",), f"high {spec['high']} must exceed low {spec['low']} (expected low < high)")]
    return []


def _check_beta(spec: dict) -> list[Issue]:
    issues = _positive(spec, "kappa", "a positive concentration") + _low_high(spec)
    lo, hi = spec.get("low", 0.0), spec.get("high", 1.0)
    if not issues and not lo < spec["mean"] < hi:
        issues.append((("mean",), f"must be strictly between {lo:g} and {hi:g}, got {spec['mean']} "
                       f"(expected {lo:g} < mean < {hi:g})"))
    return issues


def _check_annual_prob(spec: dict) -> list[Issue]:
    issues = _positive(spec, "kappa", "a positive concentration")
    if not 0.0 < spec["mean"] < 1.0:
        issues.append((("mean",), f"must be strictly between 0 and 1, got {spec['mean']} "
                       "(expected a probability 0 < mean < 1)"))
    return issues


def _check_lognormal(spec: dict) -> list[Issue]:
    issues = _positive(spec, "median")
    if spec["gsd"] <= 1.0:
        issues.append((("gsd",), f"must be > 1, got {spec['gsd']} (expected a geometric sd > 1, e.g. 1.5)"))
    return issues


def _check_gamma(spec: dict) -> list[Issue]:
    return _positive(spec, "mean") + _positive(spec, "cv", "a positive coefficient of variation")


def _check_normal(spec: dict) -> list[Issue]:
    issues = _positive(spec, "sd", "a positive standard deviation") + _low_high(spec)
    if not issues and ("low" in spec or "high" in spec):
        a, b = _trunc_ab(spec)
        if _norm_cdf(b) - _norm_cdf(a) < 1e-9:
            issues.append((("mean",), "the truncation [low, high] holds almost no probability (expected "
                           "low/high within a few sd of the mean)"))
    return issues


def _check_uniform(spec: dict) -> list[Issue]:
    return _low_high(spec)


def _check_dirichlet(spec: dict) -> list[Issue]:
    issues = _positive(spec, "concentration", "a positive concentration")
    mean = spec["mean"]
    if not isinstance(mean, dict) or len(mean) < 2:
        return [*issues, (("mean",), f"got {mean!r} (expected a mapping KEY: share with at least 2 keys)")]
    for k, v in mean.items():
        if not _is_num(v) or v <= 0:
            issues.append((("mean", str(k)), f"got {v!r} (expected a share > 0)"))
    if not issues and abs(sum(mean.values()) - 1.0) > SUM_TOL:
        issues.append((("mean",), f"shares sum to {sum(mean.values()):g} (expected shares summing to 1)"))
    return issues


def _check_choice(spec: dict) -> list[Issue]:
    options, probs = spec["options"], spec["probs"]
    issues: list[Issue] = []
    if not isinstance(options, list) or not options:
        issues.append((("options",), f"got {options!r} (expected a non-empty list of options)"))
    elif any(isinstance(o, dict | list) or o is None for o in options):
        issues.append((("options",), "options must be numbers, texts or booleans (expected a flat list)"))
    elif len({repr(o) for o in options}) != len(options):
        issues.append((("options",), "options repeat (expected each option once)"))
    if not isinstance(probs, list) or not all(_is_num(p) for p in probs):
        issues.append((("probs",), f"got {probs!r} (expected a list of probabilities)"))
        return issues
    if isinstance(options, list) and len(probs) != len(options):
        issues.append((("probs",), f"{len(probs)} probs for {len(options)} options (expected one each)"))
    for i, p in enumerate(probs):
        if not 0.0 <= p <= 1.0:
            issues.append((("probs", str(i)), f"got {p} (expected a probability in [0, 1])"))
    if not issues and abs(sum(probs) - 1.0) > SUM_TOL:
        issues.append((("probs",), f"probs sum to {sum(probs):g} (expected probs summing to 1)"))
    return issues


_CHECKS: dict[str, Callable[[dict], list[Issue]]] = {
    "beta": _check_beta,
    "annual_prob": _check_annual_prob,
    "lognormal": _check_lognormal,
    "gamma": _check_gamma,
    "normal": _check_normal,
    "uniform": _check_uniform,
    "dirichlet": _check_dirichlet,
    "choice": _check_choice,
}


def support(spec: dict) -> tuple[float, float]:
    """Return the interval a valid spec's values fall in (endpoints have probability 0)."""
    name = spec["dist"]
    if name in ("beta",):
        return spec.get("low", 0.0), spec.get("high", 1.0)
    if name == "annual_prob":
        return 0.0, 1.0
    if name in ("lognormal", "gamma"):
        return 0.0, math.inf
    if name == "normal":
        return spec.get("low", -math.inf), spec.get("high", math.inf)
    if name == "uniform":
        return spec["low"], spec["high"]
    if name == "choice":
        nums = [o for o in spec["options"] if _is_num(o)]
        return (min(nums), max(nums)) if nums else (math.nan, math.nan)
    return 0.0, 1.0  # dirichlet components


@dataclass(frozen=True)
class Marginal:
    """A spec ready to sample: the column suffixes it produces and its quantile function."""

    path: str
    spec: dict

    @property
    def keys(self) -> list[str]:
        """Component keys of a dirichlet (one column each), else ``[]`` (one column)."""
        return [str(k) for k in self.spec["mean"]] if self.spec["dist"] == "dirichlet" else []

    @property
    def width(self) -> int:
        """How many uniforms one draw needs."""
        return max(1, len(self.keys))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map uniforms of shape (n, width) to values: (n,) or, for a dirichlet, (n, width)."""
        return _PPF[self.spec["dist"]](self.spec, u)


def _trunc_ab(spec: dict) -> tuple[float, float]:
    a = (spec.get("low", -math.inf) - spec["mean"]) / spec["sd"]
    b = (spec.get("high", math.inf) - spec["mean"]) / spec["sd"]
    return a, b


def _ppf_beta(spec: dict, u: np.ndarray) -> np.ndarray:
    lo, hi = spec.get("low", 0.0), spec.get("high", 1.0)
    m = (spec["mean"] - lo) / (hi - lo)
    k = spec["kappa"]
    return lo + (hi - lo) * _stats().beta.ppf(u[:, 0], m * k, (1 - m) * k)


def _ppf_annual(spec: dict, u: np.ndarray) -> np.ndarray:
    m, k = spec["mean"], spec["kappa"]
    return _stats().beta.ppf(u[:, 0], m * k, (1 - m) * k)


def _ppf_lognormal(spec: dict, u: np.ndarray) -> np.ndarray:
    return spec["median"] * np.exp(math.log(spec["gsd"]) * _stats().norm.ppf(u[:, 0]))


def _ppf_gamma(spec: dict, u: np.ndarray) -> np.ndarray:
    cv2 = spec["cv"] ** 2
    return _stats().gamma.ppf(u[:, 0], 1.0 / cv2, scale=spec["mean"] * cv2)


def _ppf_normal(spec: dict, u: np.ndarray) -> np.ndarray:
    if "low" in spec or "high" in spec:
        a, b = _trunc_ab(spec)
        return _stats().truncnorm.ppf(u[:, 0], a, b, loc=spec["mean"], scale=spec["sd"])
    return _stats().norm.ppf(u[:, 0], loc=spec["mean"], scale=spec["sd"])


def _ppf_uniform(spec: dict, u: np.ndarray) -> np.ndarray:
    return spec["low"] + (spec["high"] - spec["low"]) * u[:, 0]


def _ppf_dirichlet(spec: dict, u: np.ndarray) -> np.ndarray:
    # Dirichlet = independent Gamma(alpha_k, 1) normalised to sum 1 (Devroye 1986, ch. XI.4).
    alpha = np.array([float(v) for v in spec["mean"].values()]) * spec["concentration"]
    g = _stats().gamma.ppf(u, alpha[None, :])
    g = np.maximum(g, np.finfo(float).tiny)
    return g / g.sum(axis=1, keepdims=True)


def _ppf_choice(spec: dict, u: np.ndarray) -> np.ndarray:
    cum = np.cumsum(np.asarray(spec["probs"], dtype=float))
    cum[-1] = 1.0
    idx = np.minimum(np.searchsorted(cum, u[:, 0], side="right"), len(cum) - 1)
    options = spec["options"]
    if all(_is_num(o) for o in options):
        return np.asarray(options, dtype=float)[idx]
    return np.asarray(options, dtype=object)[idx]


_PPF: dict[str, Callable[[dict, np.ndarray], np.ndarray]] = {
    "beta": _ppf_beta,
    "annual_prob": _ppf_annual,
    "lognormal": _ppf_lognormal,
    "gamma": _ppf_gamma,
    "normal": _ppf_normal,
    "uniform": _ppf_uniform,
    "dirichlet": _ppf_dirichlet,
    "choice": _ppf_choice,
}
