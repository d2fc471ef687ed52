"""Reading and checking the long CSV of bargaining cases: exact error messages naming the CSV line."""

from __future__ import annotations

import numpy as np
import pytest

from sim.casework import read_cases
from sim.errors import UserError

HEADER = "case,dimension,actor,capability,position,salience\n"


def _write(tmp_path, body, header=HEADER):
    p = tmp_path / "cases.csv"
    p.write_text(header + body)
    return p


def _error(path):
    with pytest.raises(UserError) as info:
        read_cases(path)
    return info.value.message


def test_reads_cases_in_file_order(tmp_path):
    p = _write(
        tmp_path,
        "b,d1,A,2,10,0.5\nb,d1,B,1,90,1\na,x,A,1,0,0\na,x,C,3,100,0.25\na,y,A,1,50,0.5\na,y,C,3,60,0.5\n",
    )
    cases = read_cases(p)
    assert [c.name for c in cases] == ["b", "a"]
    a = cases[1]
    assert a.dimensions == ("x", "y") and a.actors == ("A", "C")
    np.testing.assert_array_equal(a.position, [[0, 50], [100, 60]])
    np.testing.assert_array_equal(a.capability, [1, 3])


def test_missing_columns(tmp_path):
    p = _write(tmp_path, "a,d,A,1,0\n", header="case,dimension,actor,capability,position\n")
    assert _error(p) == (
        f"{p}: missing column(s) salience "
        "(expected columns case,dimension,actor,capability,position,salience)"
    )


def test_non_numeric_and_empty_values(tmp_path):
    p = _write(tmp_path, "a,d,A,1,0,0.5\na,d,B,lots,50,0.5\na,d,C,1,,0.5\n")
    assert _error(p) == (
        f"{p}:3: capability: 'lots' is not a number\n{p}:4: position: value is missing (expected a number)"
    )


def test_negative_capability_and_salience_range(tmp_path):
    p = _write(tmp_path, "a,d,A,-2,0,0.5\na,d,B,1,50,1.5\n")
    assert (
        _error(p)
        == f"{p}:2: capability: -2 is negative (expected >= 0)\n{p}:3: salience: 1.5 is outside [0, 1]"
    )


def test_case_with_one_actor(tmp_path):
    p = _write(tmp_path, "a,d,A,1,0,0.5\na,d,B,1,50,0.5\nb,d,A,1,10,0.5\n")
    assert _error(p) == f"{p}:4: case 'b', dimension 'd' has only one actor (expected at least 2)"


def test_duplicate_row_and_missing_file(tmp_path):
    p = _write(tmp_path, "a,d,A,1,0,0.5\na,d,B,1,50,0.5\na,d,A,2,10,0.5\n")
    assert _error(p) == f"{p}:4: duplicate row for case 'a', dimension 'd', actor 'A' (first on line 2)"
    missing = tmp_path / "nope.csv"
    assert _error(missing) == f"{missing}: no such file"
