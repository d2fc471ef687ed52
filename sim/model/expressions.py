"""A small whitelisted expression language for scenario conditions and hazard multipliers (memo §1.5 P1).

Scenario strings such as ``"status == WAR"``, ``"exp(1.5 * RU_strain)"`` or ``"ceasefire_weeks >= 14"`` are
parsed once with :mod:`ast` into a closure tree; nothing is ever passed to ``eval``. Allowed: numbers,
names of state variables (and status constants), ``+ - * / **``, unary minus, comparisons, ``and``/``or``/
``not``, and the functions ``exp``, ``min``, ``max`` (elementwise). Everything else is refused with a
:class:`~sim.errors.UserError` naming the expression.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from sim.errors import UserError

Env = Mapping[str, object]
Compiled = Callable[[Env], object]

_BIN = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power}
_CMP = {
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
}
_FUN = {"exp": (np.exp, 1), "min": (np.minimum, 2), "max": (np.maximum, 2)}


def compile_expression(text: str, names: Iterable[str], where: str = "expression") -> Compiled:
    """Parse ``text`` into a function of an environment mapping names to arrays or numbers.

    Parameters
    ----------
    text : str
        The expression.
    names : iterable of str
        Names the expression may use.
    where : str
        Where the expression comes from (for error messages), e.g. ``events.NUCLEAR_USE.state_multiplier``.

    Raises
    ------
    UserError
        On a syntax error, a name that is not allowed, or a construct outside the whitelist.
    """
    allowed = set(names)
    try:
        tree = ast.parse(str(text), mode="eval")
    except SyntaxError as err:
        raise UserError(f"{where}: cannot parse {text!r}: {err.msg}") from None

    def bad(node: ast.AST, what: str) -> UserError:
        return UserError(
            f"{where}: {what} is not allowed in {text!r} (allowed: numbers, state names, "
            "+ - * / **, comparisons, and/or/not, exp, min, max)"
        )

    def build(node: ast.AST) -> Compiled:
        if isinstance(node, ast.Expression):
            return build(node.body)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool)
        ):
            v = float(node.value)
            return lambda env: v
        if isinstance(node, ast.Name):
            if node.id not in allowed:
                raise UserError(
                    f"{where}: unknown name {node.id!r} in {text!r} (known: {', '.join(sorted(allowed))})"
                )
            key = node.id
            return lambda env: env[key]
        if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
            f, a, b = _BIN[type(node.op)], build(node.left), build(node.right)
            return lambda env: f(a(env), b(env))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            a = build(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda env: np.negative(a(env))
            if isinstance(node.op, ast.Not):
                return lambda env: np.logical_not(a(env))
            return a
        if isinstance(node, ast.Compare):
            if any(type(op) not in _CMP for op in node.ops):
                raise bad(node, "this comparison")
            parts = [build(node.left)] + [build(c) for c in node.comparators]
            ops = [_CMP[type(op)] for op in node.ops]

            def cmp(env: Env) -> object:
                vals = [p(env) for p in parts]
                out = ops[0](vals[0], vals[1])
                for k in range(1, len(ops)):
                    out = np.logical_and(out, ops[k](vals[k], vals[k + 1]))
                return out

            return cmp
        if isinstance(node, ast.BoolOp):
            parts = [build(v) for v in node.values]
            f = np.logical_and if isinstance(node.op, ast.And) else np.logical_or

            def boolop(env: Env) -> object:
                out = parts[0](env)
                for p in parts[1:]:
                    out = f(out, p(env))
                return out

            return boolop
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUN:
            f, arity = _FUN[node.func.id]
            if len(node.args) != arity or node.keywords:
                raise UserError(f"{where}: {node.func.id} takes {arity} argument(s) in {text!r}")
            args = [build(a) for a in node.args]
            return lambda env: f(*[a(env) for a in args])
        raise bad(node, type(node).__name__)

    return build(tree)
