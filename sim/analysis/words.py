"""Probabilities in words: the ICD 203 expressions of likelihood and plain-language sentences.

Intelligence Community Directive 203 (ODNI 2015, "Analytic Standards", §D.6.b.2.a) fixes seven terms
to seven probability bands; a briefing that uses them lets the reader translate the words back into
numbers. Boundaries belong to the higher band except at the top (so 0.20 is "unlikely", 0.95 is
"almost certain"); below 1% we still say "almost no chance" and above 99% "almost certain".

References
----------
Office of the Director of National Intelligence (2015). Intelligence Community Directive 203: Analytic
Standards, 2 January 2015.
"""

from __future__ import annotations

import math

#: (upper bound, term, band as printed), ascending; ICD 203 §D.6.b.2.a.
ICD203_BANDS: tuple[tuple[float, str, str], ...] = (
    (0.05, "almost no chance", "1–5%"),
    (0.20, "very unlikely", "5–20%"),
    (0.45, "unlikely", "20–45%"),
    (0.55, "roughly even chance", "45–55%"),
    (0.80, "likely", "55–80%"),
    (0.95, "very likely", "80–95%"),
    (1.01, "almost certain", "95–99%"),
)


def icd203_term(p: float) -> tuple[str, str]:
    """ICD 203 term and its band for a probability, e.g. ``("unlikely", "20–45%")`` for 0.27."""
    if not 0.0 <= p <= 1.0 or math.isnan(p):
        raise ValueError(f"probability out of range: {p}")
    for upper, term, band in ICD203_BANDS:
        if p < upper:
            return term, band
    return ICD203_BANDS[-1][1], ICD203_BANDS[-1][2]


def pct(x: float) -> str:
    """Percentage points as an integer string (``0.274 -> '27'``; small but non-zero -> ``'<1'``)."""
    if 0.0 < x < 0.005:
        return "<1"
    if 0.995 < x < 1.0:
        return ">99"
    return f"{100.0 * x:.0f}"


def horizon_phrase(weeks: int, kind: str = "within") -> str:
    """'within a year' / 'after two years' / 'within 30 weeks' (``kind`` is 'within' or 'after')."""
    names = {26: "six months", 52: "a year", 78: "18 months", 104: "two years", 156: "three years"}
    return f"{kind} {names.get(int(weeks), f'{int(weeks)} weeks')}"


OUTCOME_NOUNS: dict[str, str] = {
    "comprehensive_deal": "A comprehensive deal",
    "ceasefire": "A ceasefire or frozen conflict",
    "continued_war": "Continued war",
    "collapse_escalation": "Collapse or escalation",
}

#: How each class reads at a horizon: a deal or collapse happens *within* it; a ceasefire or the war is a
#: state that holds *after* it (the classes are states at the horizon, memo §1.6).
_SENTENCE_NOUNS: dict[str, tuple[str, str]] = {
    "comprehensive_deal": ("A comprehensive deal", "within"),
    "ceasefire": ("A ceasefire or frozen conflict in place", "after"),
    "continued_war": ("Fighting still going on", "after"),
    "collapse_escalation": ("Collapse or escalation", "within"),
}


def _is_term(term: str) -> str:
    """'is unlikely', 'has a roughly even chance', 'has almost no chance'."""
    if term == "roughly even chance":
        return "has a roughly even chance"
    if term == "almost no chance":
        return "has almost no chance"
    return f"is {term}"


def headline_sentence(outcome: str, horizon: int, p: float, lo: float, hi: float) -> str:
    """One sentence in ICD 203 terms with the number and its interval.

    Example: ``"A comprehensive deal within a year is unlikely (20–45%): 27% [19, 36]"``.
    """
    # the term follows the number the reader sees (27.4% -> "27%"), so "5%" is never "almost no chance"
    term, band = icd203_term(min(max(round(p, 2), 0.0), 1.0))
    noun, kind = _SENTENCE_NOUNS.get(outcome, (outcome.replace("_", " ").capitalize(), "within"))
    nums = f"{pct(p)}% [{pct(lo)}, {pct(hi)}]"
    return f"{noun} {horizon_phrase(horizon, kind)} {_is_term(term)} ({band}): {nums}"


def _signed(x: float, decimals: int = 0) -> str:
    """Signed percentage points, '0' rather than '-0' or '+0'."""
    v = round(100.0 * x, decimals)
    if v == 0:
        return "0"
    return f"{v:+.{decimals}f}"


def change_sentence(outcome: str, horizon: int, diff: float, lo: float, hi: float, label_b: str = "B") -> str:
    """Describe a paired difference in one line.

    Example: "A comprehensive deal within a year becomes more likely under B: +9 points [5, 13]".

    An interval that straddles zero is reported as "no clear change".
    """
    noun, kind = _SENTENCE_NOUNS.get(outcome, (outcome.replace("_", " ").capitalize(), "within"))
    # small effects (all within 5 points) get one decimal, so "[-1, 0]" does not hide a clear change
    d = 1 if max(abs(diff), abs(lo), abs(hi)) < 0.05 else 0
    unit = "point" if abs(round(100.0 * diff, d)) == 1 else "points"
    nums = f"{_signed(diff, d)} {unit} [{_signed(lo, d)}, {_signed(hi, d)}]"
    if lo > 0:
        verb = "becomes more likely"
    elif hi < 0:
        verb = "becomes less likely"
    else:
        verb = "shows no clear change"
    return f"{noun} {horizon_phrase(horizon, kind)} {verb} under {label_b}: {nums}"
