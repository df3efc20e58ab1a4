"""Are two expressions the same function? `2(x+1)` ≡ `2x+2`, never a string compare.

This runs on the study loop's hot path with learner input, so every step is bounded:

1. structurally equal after sympy's automatic simplification → equal;
2. rational functions (polynomials, fractions of them): exact evaluation at random rational
   points — no rounding, and a nonzero value proves the two differ;
3. anything else (sqrt, exp, log, fractional powers): our own float evaluator over the sympy
   tree, O(size) per point (sympy's evalf and simplify can take minutes on inputs like
   `(3.5^60/y)^(99(y+x))`); points where either side is undefined or overflows are skipped;
4. only if too few points could be evaluated, and the difference is small, `simplify`.

sympy's `expand` is deliberately not used: `(log(y) - 99x)^60` expands for minutes.
"""

from __future__ import annotations

import cmath
import math
import random

import sympy

from .expressions import to_sympy

SAMPLES = 8
RELATIVE_TOLERANCE = 1e-7  # floats: equal up to rounding, far from any real difference
MAX_SIMPLIFY_OPS = 25


class _Unsupported(Exception):
    pass


def equivalent(a, b) -> bool:
    a, b = to_sympy(a), to_sympy(b)
    diff = a - b
    if diff == 0:
        return True
    # both sides' symbols: x may cancel in the difference but is still needed to evaluate a
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    rng = random.Random(20240611)  # fixed: grading must be reproducible
    try:
        exact = diff.is_rational_function(*symbols)
    except (ArithmeticError, TypeError, ValueError, RecursionError):
        exact = False
    agreed = 0
    for _ in range(SAMPLES * 3):
        point = {s: _random_rational(rng) for s in symbols}
        verdict = _exact_sample(diff, point) if exact else None
        if verdict is None:
            verdict = _float_sample(a, b, point)
        if verdict is False:
            return False
        if verdict is True:
            agreed += 1
            if agreed >= SAMPLES or not symbols:  # a constant needs one point
                return True
    if sympy.count_ops(diff) > MAX_SIMPLIFY_OPS:
        return False
    try:
        return bool(sympy.simplify(diff) == 0)
    except (ArithmeticError, TypeError, ValueError, RecursionError):
        return False


def _random_rational(rng: random.Random) -> sympy.Rational:
    q = rng.randint(11, 97)  # magnitudes 0.2 … 3, both signs: away from 0 and from overflow
    return sympy.Rational(rng.choice((-1, 1)) * rng.randint(q // 5 + 1, 3 * q), q)


def _exact_sample(diff, point) -> bool | None:
    """True: zero here; False: nonzero here; None: undefined here (a pole)."""
    try:
        value = diff.xreplace(point)
    except (ArithmeticError, TypeError, ValueError):
        return None
    if value.is_Rational:
        return value == 0
    return None  # a pole (zoo/nan), or constants like pi: decided in floating point


def _float_sample(a, b, point) -> bool | None:
    values = {s: complex(v) for s, v in point.items()}
    try:
        x, y = approximate(a, values), approximate(b, values)
    except (ArithmeticError, ValueError, TypeError, KeyError, _Unsupported):
        return None
    if not (_finite(x) and _finite(y)):
        return None
    return abs(x - y) <= RELATIVE_TOLERANCE * (1 + abs(x) + abs(y))


def _finite(z: complex) -> bool:
    return math.isfinite(z.real) and math.isfinite(z.imag)


_FUNCTIONS = {
    sympy.exp: cmath.exp,
    sympy.log: cmath.log,
    sympy.sin: cmath.sin,
    sympy.cos: cmath.cos,
    sympy.tan: cmath.tan,
    sympy.Abs: lambda z: complex(abs(z)),
}


def approximate(expr, values: dict) -> complex:
    """expr at `values` in complex floating point (principal branches, like sympy)."""
    if expr.is_Symbol:
        return values[expr]
    if expr.is_Number:
        return complex(float(expr))
    if expr is sympy.pi:
        return complex(math.pi)
    if expr is sympy.E:
        return complex(math.e)
    if expr.is_Add:
        return sum((approximate(t, values) for t in expr.args), 0j)
    if expr.is_Mul:
        result = 1 + 0j
        for factor in expr.args:
            result *= approximate(factor, values)
        return result
    if expr.is_Pow:
        base, exponent = approximate(expr.base, values), approximate(expr.exp, values)
        if base == 0 and exponent.real < 0:
            raise ZeroDivisionError
        if exponent.imag == 0 and exponent.real == int(exponent.real) and abs(exponent.real) <= 1024:
            return base ** int(exponent.real)  # exact powers stay real for negative bases
        return base**exponent
    fn = _FUNCTIONS.get(expr.func)
    if fn is not None and len(expr.args) == 1:
        return fn(approximate(expr.args[0], values))
    if expr.func is sympy.log and len(expr.args) == 2:
        return cmath.log(approximate(expr.args[0], values)) / cmath.log(approximate(expr.args[1], values))
    raise _Unsupported(type(expr).__name__)
