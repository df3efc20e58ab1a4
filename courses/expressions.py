"""Safe, exact evaluation of the expressions in ramp files.

Ramp files come from educators and from browser uploads, so an expression is never handed
to `eval`. It is parsed with `ast`, checked against a small allowlist (arithmetic,
comparisons, and/or/not, a few named functions, names given by the caller) and compiled
into a tree of closures. Arithmetic is exact: integers and `Fraction`s while the values are
rational, sympy objects only where needed (sqrt(2), exp, log, variables of `expression`
items). Sizes are bounded so that `10**10**10` is refused instead of eating the machine.

    expr = compile_expression("a/b + c/d")
    expr.evaluate({"a": 1, "b": 2, "c": 1, "d": 3})   # Fraction(5, 6)

Values are `int`, `Fraction`, `bool`, `str` or a sympy expression.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy

MAX_SOURCE_LENGTH = 500
MAX_NODES = 200
MAX_BITS = 4096  # numerator and denominator of any exact intermediate value
MAX_EXPONENT = 1000
MAX_SYMBOLIC_EXPONENT = 64  # x**64 is plenty and keeps expand/simplify cheap
MAX_EXP_ARGUMENT = 1000
MAX_STRING_LENGTH = 200

Value = Any  # int | Fraction | bool | str | sympy.Basic


class ExpressionError(ValueError):
    """An expression that can't be parsed or evaluated; names the expression."""

    def __init__(self, expression: str, message: str):
        self.expression = expression
        self.message = message
        super().__init__(f"{message} (in `{_shorten(expression)}`)")


class _Fail(ValueError):
    """Raised inside evaluation; turned into an ExpressionError naming the source."""


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- values -------------------------------------------------------------------------------


def _is_exact(v: Value) -> bool:
    return type(v) is int or type(v) is Fraction


def _check_size(v: Value) -> Value:
    if type(v) is int:
        if v.bit_length() > MAX_BITS:
            raise _Fail("a number in it is too large")
    elif type(v) is Fraction:
        if v.numerator.bit_length() > MAX_BITS or v.denominator.bit_length() > MAX_BITS:
            raise _Fail("a number in it is too large")
    return v


def _norm(v: Value) -> Value:
    """Canonical form: whole Fractions become ints, rational sympy numbers become exact."""
    if type(v) is Fraction:
        return v.numerator if v.denominator == 1 else v
    if isinstance(v, sympy.Basic):
        if v is sympy.true or v is sympy.false:
            return bool(v)
        if v.is_Integer:
            return _check_size(int(v))
        if v.is_Rational:
            return _check_size(Fraction(int(v.p), int(v.q)))
        if v.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
            raise _Fail("division by zero or an undefined value")
        if v.is_number and v.is_real is False:
            raise _Fail("the result is not a real number")
        if v.free_symbols:
            # sympy merges powers ((x^60)^60 is x^3600): cap the merged exponents too, so
            # nothing downstream (equivalence checks, exact sampling) meets a huge degree
            for power in v.atoms(sympy.Pow):
                if power.exp.is_Number and abs(power.exp) > MAX_SYMBOLIC_EXPONENT:
                    raise _Fail("a power in it is too large")
    return v


def to_sympy(v: Value) -> sympy.Basic:
    """A value as a sympy object (for symbolic work)."""
    if type(v) is int:
        return sympy.Integer(v)
    if type(v) is Fraction:
        return sympy.Rational(v.numerator, v.denominator)
    if isinstance(v, sympy.Basic):
        return v
    raise _Fail(f"expected a number, got {_kind(v)}")


def _kind(v: Value) -> str:
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, str):
        return "text"
    return "a number"


def _number(v: Value) -> Value:
    if isinstance(v, bool) or isinstance(v, str):
        raise _Fail(f"expected a number, got {_kind(v)}")
    return v


def _integer(v: Value, what: str) -> int:
    if type(v) is not int:
        raise _Fail(f"{what} needs whole numbers")
    return v


def as_value(x: Any) -> Value:
    """Convert a Python/YAML value (int, float, Fraction, Decimal, str, bool) to a Value."""
    if isinstance(x, bool) or isinstance(x, str) or type(x) is int:
        return x
    if type(x) is Fraction:
        return _check_size(_norm(x))
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"{x} is not a finite number")
        return _norm(Fraction(repr(x)))  # repr is the shortest exact decimal: 0.1 -> 1/10
    if isinstance(x, int):
        return int(x)
    if isinstance(x, sympy.Basic):
        return _norm(x)
    raise ValueError(f"unsupported value {x!r}")


# --- arithmetic ---------------------------------------------------------------------------


def _add(a, b):
    a, b = _number(a), _number(b)
    if _is_exact(a) and _is_exact(b):
        return _check_size(a + b)
    return _norm(to_sympy(a) + to_sympy(b))


def _sub(a, b):
    a, b = _number(a), _number(b)
    if _is_exact(a) and _is_exact(b):
        return _check_size(a - b)
    return _norm(to_sympy(a) - to_sympy(b))


def _mul(a, b):
    a, b = _number(a), _number(b)
    if _is_exact(a) and _is_exact(b):
        return _check_size(a * b)
    return _norm(to_sympy(a) * to_sympy(b))


def _div(a, b):
    a, b = _number(a), _number(b)
    if _is_exact(a) and _is_exact(b):
        if b == 0:
            raise _Fail("division by zero")
        return _check_size(_norm(Fraction(a) / b))
    sb = to_sympy(b)
    if sb == 0:
        raise _Fail("division by zero")
    return _norm(to_sympy(a) / sb)


def _floordiv(a, b):
    a, b = _number(a), _number(b)
    if not (_is_exact(a) and _is_exact(b)):
        raise _Fail("// needs rational numbers")
    if b == 0:
        raise _Fail("division by zero")
    return _check_size(a // b)


def _mod(a, b):
    a, b = _number(a), _number(b)
    if not (_is_exact(a) and _is_exact(b)):
        raise _Fail("% needs rational numbers")
    if b == 0:
        raise _Fail("division by zero")
    return _check_size(_norm(a % b))


def _bits(v: Value) -> int:
    if type(v) is int:
        return v.bit_length()
    return max(v.numerator.bit_length(), v.denominator.bit_length())


def _pow(a, b):
    a, b = _number(a), _number(b)
    if _is_exact(a) and _is_exact(b):
        if abs(b) > MAX_EXPONENT or _bits(a) * abs(b) > MAX_BITS:
            raise _Fail("a power in it is too large")
        if a == 0 and b < 0:
            raise _Fail("division by zero")
        if type(b) is int:
            return _check_size(_norm(Fraction(a) ** b))
        if a < 0:
            raise _Fail("a fractional power of a negative number is not a real number")
        return _norm(to_sympy(a) ** to_sympy(b))
    sa, sb = to_sympy(a), to_sympy(b)
    if sb.is_number:
        limit = MAX_EXPONENT if sa.is_number else MAX_SYMBOLIC_EXPONENT
        if abs(sb.evalf(15)) > limit:
            raise _Fail("a power in it is too large")
    if sa.is_number and sb.is_number and abs(sa.evalf(15)) > 1:
        # e.g. sqrt(2)**1000: bound the magnitude like the exact case
        if float(abs(sb.evalf(15))) * math.log2(float(abs(sa.evalf(15)))) > MAX_BITS:
            raise _Fail("a power in it is too large")
    return _norm(sa**sb)


def _neg(a):
    a = _number(a)
    return -a if _is_exact(a) else _norm(-a)


def _pos(a):
    return _number(a)


def _truth(v: Value) -> bool:
    if isinstance(v, bool):
        return v
    raise _Fail(f"expected true/false, got {_kind(v)}")


def _not(a):
    return not _truth(a)


# --- comparisons --------------------------------------------------------------------------


def _sign_of_difference(a, b) -> int:
    if _is_exact(a) and _is_exact(b):
        return (a > b) - (a < b)
    d = to_sympy(a) - to_sympy(b)
    if d.free_symbols:
        raise _Fail("can't compare expressions that contain variables")
    if d == 0:
        return 0
    approx = d.evalf(60)
    if not approx.is_real:
        raise _Fail("can't compare a value that is not a real number")
    if abs(approx) < sympy.Float("1e-40"):
        return 0  # equal up to the precision we evaluate at (e.g. sqrt(2)+sqrt(3) vs sqrt(5+2*sqrt(6)))
    return 1 if approx > 0 else -1


def _equal(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        if isinstance(a, str) and isinstance(b, str):
            return a == b
        raise _Fail("compares text with something that is not text")
    if isinstance(a, bool) or isinstance(b, bool):
        if isinstance(a, bool) and isinstance(b, bool):
            return a == b
        raise _Fail("compares true/false with a number")
    return _sign_of_difference(a, b) == 0


def _ordered(a, b) -> int:
    a, b = _number(a), _number(b)
    return _sign_of_difference(a, b)


_COMPARISONS: dict[type, Callable[[Value, Value], bool]] = {
    ast.Eq: _equal,
    ast.NotEq: lambda a, b: not _equal(a, b),
    ast.Lt: lambda a, b: _ordered(a, b) < 0,
    ast.LtE: lambda a, b: _ordered(a, b) <= 0,
    ast.Gt: lambda a, b: _ordered(a, b) > 0,
    ast.GtE: lambda a, b: _ordered(a, b) >= 0,
}

_BINARY: dict[type, Callable[[Value, Value], Value]] = {
    ast.Add: _add,
    ast.Sub: _sub,
    ast.Mult: _mul,
    ast.Div: _div,
    ast.FloorDiv: _floordiv,
    ast.Mod: _mod,
    ast.Pow: _pow,
}

# --- functions ----------------------------------------------------------------------------


def _gcd(*args):
    return math.gcd(*(_integer(_number(a), "gcd") for a in args))


def _lcm(*args):
    return _check_size(math.lcm(*(_integer(_number(a), "lcm") for a in args)))


def _abs(a):
    a = _number(a)
    return abs(a) if _is_exact(a) else _norm(sympy.Abs(a))


def _min(*args):
    args = [_number(a) for a in args]
    if all(_is_exact(a) for a in args):
        return min(args)
    return _norm(sympy.Min(*map(to_sympy, args)))


def _max(*args):
    args = [_number(a) for a in args]
    if all(_is_exact(a) for a in args):
        return max(args)
    return _norm(sympy.Max(*map(to_sympy, args)))


def _floor(a):
    a = _number(a)
    if _is_exact(a):
        return math.floor(a)
    result = sympy.floor(a)
    if a.is_number and not result.is_Integer:
        raise _Fail("can't compute that floor exactly")  # e.g. floor(exp(999))
    return _norm(result)


def _sqrt(a):
    a = _number(a)
    if _is_exact(a):
        if a < 0:
            raise _Fail("square root of a negative number")
        f = Fraction(a)
        n, d = math.isqrt(f.numerator), math.isqrt(f.denominator)
        if n * n == f.numerator and d * d == f.denominator:
            return _norm(Fraction(n, d))
    return _norm(sympy.sqrt(to_sympy(a)))


def _exp(a):
    s = to_sympy(_number(a))
    if s.is_number and abs(s.evalf(15)) > MAX_EXP_ARGUMENT:
        raise _Fail("exp of a number that large is not allowed")
    return _norm(sympy.exp(s))


def _log(a, base=None):
    s = to_sympy(_number(a))
    if s.is_number and not s.evalf(15) > 0:
        raise _Fail("log of a number that is not positive")
    if base is None:
        return _norm(sympy.log(s))
    b = to_sympy(_number(base))
    if b.is_number and (not b.evalf(15) > 0 or b == 1):
        raise _Fail("log base must be positive and not 1")
    return _norm(sympy.log(s, b))


@dataclass(frozen=True)
class _Function:
    impl: Callable[..., Value]
    min_args: int
    max_args: int | None


FUNCTIONS: dict[str, _Function] = {
    "gcd": _Function(_gcd, 1, None),
    "lcm": _Function(_lcm, 1, None),
    "abs": _Function(_abs, 1, 1),
    "min": _Function(_min, 1, None),
    "max": _Function(_max, 1, None),
    "floor": _Function(_floor, 1, 1),
    "sqrt": _Function(_sqrt, 1, 1),
    "exp": _Function(_exp, 1, 1),
    "log": _Function(_log, 1, 2),
}

# --- compiling ----------------------------------------------------------------------------

Env = Mapping[str, Value]
_Compiled = Callable[[Env], Value]


@dataclass(frozen=True)
class Expression:
    """A checked, compiled expression. `names` are the free names it reads."""

    source: str
    names: frozenset[str]
    _run: _Compiled

    def evaluate(self, env: Env) -> Value:
        try:
            return self._run(env)
        except _Fail as e:
            raise ExpressionError(self.source, str(e)) from None
        except (ArithmeticError, ValueError, TypeError, RecursionError) as e:
            # sympy's and Python's own numeric errors on odd input: still the author's problem
            raise ExpressionError(self.source, f"can't evaluate it ({type(e).__name__})") from None

    def evaluate_bool(self, env: Env) -> bool:
        v = self.evaluate(env)
        if not isinstance(v, bool):
            raise ExpressionError(self.source, f"should be true or false, but it is {_kind(v)}")
        return v

    def evaluate_number(self, env: Env) -> Value:
        v = self.evaluate(env)
        if isinstance(v, (bool, str)) or (isinstance(v, sympy.Basic) and v.free_symbols):
            raise ExpressionError(self.source, "should be a number")
        if isinstance(v, sympy.Basic):
            try:  # a number we can't even approximate is no use as an answer
                approx = v.evalf(30)
            except (ArithmeticError, ValueError, TypeError, RecursionError):
                approx = None
            if approx is None or not approx.is_Float:
                raise ExpressionError(self.source, "can't evaluate it to a number")
        return v


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Expression:
    """Parse and check an expression; raises ExpressionError naming what is not allowed."""
    if not isinstance(source, str):
        raise ExpressionError(str(source), "an expression must be text")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(source, f"longer than {MAX_SOURCE_LENGTH} characters")
    if not source.strip():
        raise ExpressionError(source, "empty expression")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as e:
        raise ExpressionError(source, f"can't read it: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError(source, "can't read it") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExpressionError(source, "too long or too deeply nested")
    names = frozenset(n.id for n in nodes if isinstance(n, ast.Name) and n.id not in FUNCTIONS)
    try:
        run = _compile(tree.body)
    except _Fail as e:
        raise ExpressionError(source, str(e)) from None
    return Expression(source, names, run)


def evaluate(source: str, env: Env | None = None) -> Value:
    """Compile (cached) and evaluate in one go."""
    return compile_expression(source).evaluate(env or {})


def _constant(node: ast.Constant) -> Value:
    v = node.value
    if isinstance(v, bool) or type(v) is int:
        return _check_size(v) if type(v) is int else v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _Fail("number out of range")
        return _check_size(_norm(Fraction(repr(v))))
    if isinstance(v, str):
        if len(v) > MAX_STRING_LENGTH:
            raise _Fail("text constant too long")
        return v
    raise _Fail(f"{type(v).__name__} constants are not allowed")


def _lookup(env: Env, name: str) -> Value:
    try:
        return env[name]
    except KeyError:
        raise _Fail(f"unknown name '{name}'") from None


def _compile(node: ast.AST) -> _Compiled:
    if isinstance(node, ast.Constant):
        value = _constant(node)
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id
        if name in FUNCTIONS:
            raise _Fail(f"'{name}' is a function: call it like {name}(…)")
        return lambda env: _lookup(env, name)
    if isinstance(node, ast.BinOp):
        op = _BINARY.get(type(node.op))
        if op is None:
            if isinstance(node.op, ast.BitXor):
                raise _Fail("^ is not a power here: use **")
            raise _Fail(f"the operator {type(node.op).__name__} is not allowed")
        left, right = _compile(node.left), _compile(node.right)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        unary = {ast.USub: _neg, ast.UAdd: _pos, ast.Not: _not}.get(type(node.op))
        if unary is None:
            raise _Fail(f"the operator {type(node.op).__name__} is not allowed")
        operand = _compile(node.operand)
        return lambda env: unary(operand(env))
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(_truth(p(env)) for p in parts)
        return lambda env: any(_truth(p(env)) for p in parts)
    if isinstance(node, ast.Compare):
        first = _compile(node.left)
        rest = []
        for op, comparator in zip(node.ops, node.comparators):
            test = _COMPARISONS.get(type(op))
            if test is None:
                raise _Fail(f"the comparison {type(op).__name__} is not allowed")
            rest.append((test, _compile(comparator)))

        def compare(env: Env) -> bool:
            left = first(env)
            for test, right_fn in rest:
                right = right_fn(env)
                if not test(left, right):
                    return False
                left = right
            return True

        return compare
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else "this"
            raise _Fail(f"calling {what} is not allowed; functions: {', '.join(FUNCTIONS)}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise _Fail("functions take plain arguments only")
        fn = FUNCTIONS[node.func.id]
        n = len(node.args)
        if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
            raise _Fail(f"{node.func.id} takes a different number of arguments")
        args = [_compile(a) for a in node.args]
        impl = fn.impl
        return lambda env: impl(*(a(env) for a in args))
    if isinstance(node, ast.Attribute):
        raise _Fail("attribute access (.) is not allowed")
    if isinstance(node, ast.Subscript):
        raise _Fail("indexing ([]) is not allowed")
    raise _Fail(f"{type(node).__name__} is not allowed")


# --- showing values -----------------------------------------------------------------------


class _LearnerStylePrinter(sympy.printing.str.StrPrinter):
    """Prints sympy expressions in the syntax learners type (and our parser reads back)."""

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Exp1(self, expr):
        return "exp(1)"

    def _print_exp(self, expr):
        return f"exp({self._print(expr.args[0])})"


def format_value(v: Value) -> str:
    """How a value appears in rendered text: 3, 3/4, -1/2, sqrt(2), 2*x + 1."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if type(v) is int:
        return str(v)
    if type(v) is Fraction:
        return f"{v.numerator}/{v.denominator}"
    return _LearnerStylePrinter().doprint(v)


def format_decimal(v: Value, digits: int = 20) -> str:
    """A decimal approximation (for irrational answers typed as a learner would)."""
    return str(to_sympy(v).evalf(digits))
