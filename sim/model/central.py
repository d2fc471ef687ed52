"""Central values of a scenario: every uncertainty distribution replaced by its median or mode.

Used for "noise off" runs, stylised-fact checks (memo §5.1) and the static t0 table. A pure function of the
resolved scenario data (``Scenario.data`` or a raw YAML mapping); distribution specs are dicts with a
``dist`` key (memo §2.1 grammar).
"""

from __future__ import annotations

import math
from typing import Any

_META = ("src", "asof")


def central_value(spec: dict) -> Any:
    """Central value of one distribution spec: the median where it is cheap and natural, else the mean/mode.

    beta / annual_prob / gamma: the stated mean; lognormal: the median; normal: the mean clipped to
    [low, high]; uniform: the midpoint; dirichlet: the normalised mean (a mapping); choice: the most
    probable option (the first on ties).
    """
    kind = spec["dist"]
    if kind in ("beta", "annual_prob", "gamma"):
        return float(spec["mean"])
    if kind == "lognormal":
        return float(spec["median"])
    if kind == "normal":
        m = float(spec["mean"])
        return min(max(m, float(spec.get("low", -math.inf))), float(spec.get("high", math.inf)))
    if kind == "uniform":
        return 0.5 * (float(spec["low"]) + float(spec["high"]))
    if kind == "dirichlet":
        mean = spec["mean"]
        tot = float(sum(mean.values()))
        return {k: float(v) / tot for k, v in mean.items()}
    if kind == "choice":
        opts = list(spec["options"])
        probs = list(spec.get("probs", [1.0 / len(opts)] * len(opts)))
        return opts[max(range(len(opts)), key=lambda i: (probs[i], -i))]
    raise ValueError(f"unknown distribution {kind!r}")


def central_params(data: Any) -> Any:
    """Replace every distribution in a nested scenario mapping by its central value.

    Also drops ``src``/``asof`` provenance keys and unwraps ``{value: x}`` leaves, so raw YAML works too.

    Parameters
    ----------
    data : mapping
        ``Scenario.data`` or a ``yaml.safe_load`` result.

    Returns
    -------
    A new nested structure of plain floats, strings, lists and dicts (the input is not modified).
    """
    if isinstance(data, dict):
        if "dist" in data:
            return central_value(data)
        body = {k: v for k, v in data.items() if k not in _META}
        if set(body) == {"value"}:
            return central_params(body["value"])
        return {k: central_params(v) for k, v in body.items()}
    if isinstance(data, list):
        return [central_params(v) for v in data]
    return data
