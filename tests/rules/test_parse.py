"""The safe parser: user text becomes sympy without ever being evaluated as Python.

Three kinds of claim: injections are refused with one line and have no effect; costly
inputs (exponent towers, huge numbers, deep nesting) are refused fast, before they are
built; valid input parses to the same expression as sympy builds directly (examples, and
a property test: random whitelisted trees printed by ``sstr`` read back equal).
"""

from __future__ import annotations

import os
import sys
import time

import pytest
import sympy as sp
from conftest import PAYLOADS, PWNED
from hypothesis import assume, given
from hypothesis import strategies as st

from nnqft.errors import InvalidParameter, NnqftError, ParseError
from nnqft.rules import parse as P
from nnqft.rules import symbols as S
from nnqft.rules.activations import get_activation
from nnqft.rules.network import Network
from nnqft.rules.parse import parse_expression, parse_number

INJECTIONS = [
    *PAYLOADS,
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "z[0]",
    "__builtins__",
    "(z := 1)",
    f"tanh(z) + __import__('os').system('touch {PWNED}')",
]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert not (tmp_path / PWNED).exists()
    assert os.listdir(tmp_path) == []


# --- valid input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, want",
    [
        ("tanh(z)+0.1*z**3", sp.tanh(S.z) + sp.Rational(1, 10) * S.z**3),
        ("sigma_w2^T*q0", S.sigma_w2**S.T * S.q0),  # ^ binds like **, not like Python's xor
        ("(1+2/N)*sigma_w2**2", (1 + 2 / S.N) * S.sigma_w2**2),
        ("-sigma_w2**T", -(S.sigma_w2**S.T)),
        ("2**-1 + 1e-3 + 2.5E2 + .5", sp.Rational(1, 2) + sp.Rational(1, 1000) + 250 + sp.S.Half),
        ("a - b - c".replace("a", "N").replace("b", "T").replace("c", "q0"), S.N - S.T - S.q0),
        ("N/T/q0*z", S.N / S.T / S.q0 * S.z),
        ("Max(0, z)", get_activation("relu").expr),
        ("max(0, z) + abs(z) + min(z, 1)", sp.Max(0, S.z) + sp.Abs(S.z) + sp.Min(S.z, 1)),
        ("sqrt(q)*exp(-q/2)/pi + E", sp.sqrt(S.q) * sp.exp(-S.q / 2) / sp.pi + sp.E),
        ("log(z, 2) + ln(q)", sp.log(S.z, 2) + sp.log(S.q)),
        ("erf(z) + erfc(z) + atan(z)", sp.erf(S.z) + sp.erfc(S.z) + sp.atan(S.z)),
        ("Heaviside(z)*sign(z)", sp.Heaviside(S.z) * sp.sign(S.z)),
        ("polygamma(0, N/2) + digamma(N)", sp.polygamma(0, S.N / 2) + sp.digamma(S.N)),
        ("2**1000", sp.Integer(2) ** 1000),
        ("sigma_w2**1000", S.sigma_w2**1000),
    ],
)
def test_valid_expressions_parse_to_the_sympy_expression(text, want):
    assert parse_expression(text) == want


def test_sums_bind_their_variable_and_nest():
    k, m = sp.symbols("k m")
    got = parse_expression("Sum(Sum(Min(k, m)*sigma_w2**(k+m), (m, 0, k)), (k, 0, T-1))")
    assert got == sp.Sum(sp.Sum(sp.Min(k, m) * S.sigma_w2 ** (k + m), (m, 0, k)), (k, 0, S.T - 1))
    with pytest.raises(ParseError, match="unknown symbol 'k'"):
        parse_expression("Sum(k, (k, 0, T)) + k")  # k is bound inside the sum only
    with pytest.raises(ParseError, match="model symbol"):
        parse_expression("Sum(T, (T, 0, 3))")


def test_extra_names_and_the_model_symbols_keep_their_assumptions():
    a = sp.Symbol("alpha", positive=True)
    assert parse_expression("alpha*z", {"alpha": a}) == a * S.z
    assert parse_expression("N").is_integer and parse_expression("sigma_w2").is_positive
    with pytest.raises(ParseError, match="unknown symbol 'alpha'"):
        parse_expression("alpha*z")


def test_decimals_are_exact():
    assert parse_expression("0.1") == sp.Rational(1, 10)
    assert parse_expression("1_000.5") == sp.Rational(2001, 2)


# --- injections -------------------------------------------------------------------------


@pytest.mark.parametrize("text", INJECTIONS)
def test_injections_are_refused_in_one_line(text, in_tmp):
    with pytest.raises(ParseError) as info:
        parse_expression(text)
    message = str(info.value)
    assert "\n" not in message and message.startswith("cannot parse expression")


@pytest.mark.parametrize("text", INJECTIONS)
def test_injections_as_activations_and_networks_are_refused(text, in_tmp):
    with pytest.raises(NnqftError) as info:
        get_activation(text)
    assert "\n" not in str(info.value)
    with pytest.raises(NnqftError):
        Network("feedforward", text, sigma_w2=1.5, sigma_b2=0.05)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("lambda z: z", "lambda cannot be used"),
        ("z.real", "attribute access"),
        ("'abc'", "strings are not allowed"),
        ("exec('x')", "unknown function 'exec'"),
        ("exp", "must be called"),
        ("tanh(z, 2)", "tanh takes 1 argument"),
        ("tanh(x=z)", "keyword arguments"),
        ("z > 0", "comparisons cannot be used"),
        ("z // 2", "operator // is not allowed"),
        ("1j*z", "complex literals"),
        ("sigma_w/2", "did you mean 'sigma_w2'"),
        ("tnah(z)", "did you mean 'tanh'"),
        ("_x", "names starting with '_'"),
        ("", "non-empty"),
    ],
)
def test_refusals_say_what_was_wrong(text, reason):
    with pytest.raises(ParseError) as info:
        parse_expression(text)
    assert reason in str(info.value)


@pytest.mark.parametrize("text", ["nan", "zoo", "oo", "-oo", "inf", "1/0", "log(0)", "0**-1"])
def test_non_finite_is_refused(text):
    with pytest.raises(ParseError, match="not a finite expression"):
        parse_expression(text)


# --- cost limits ------------------------------------------------------------------------

COSTLY = [
    "9**9**9**9",
    "sigma_w2**(10**10)",
    "10**10**10",
    "2**2**2**2**2**2",
    "(N**1000)**1000",
    "(1+N)**600*(1+N)**600",
    "z**(-10**4)",
    "7**1000",
    "(10**300)**(1/2)",
    "9" * 1000,
    "1.5e999",
    "1e-999",
    "polygamma(0, 10**6)",
    "polygamma(10**6, 2)",
    "digamma(10**5 + 1/2)",
    "Sum(k, (k, 0, 10**9))",
    "Sum(Sum(k*m, (m, 0, 1000)), (k, 0, 1000))",
    "(" * 250 + "z" + ")" * 250,
    "(z+(z*" * 30 + "z" + "))" * 30,
    "tanh(" * 60 + "z" + ")" * 60,
    "-" * 3000 + "1",
    "z+" * 2500 + "z",
    "z" + "*z" * 2100,
]


@pytest.mark.parametrize("text", COSTLY, ids=lambda t: t[:30])
def test_costly_input_is_refused_fast(text):
    start = time.perf_counter()
    with pytest.raises(ParseError) as info:
        parse_expression(text)
    assert time.perf_counter() - start < 2.0
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


@pytest.mark.slow  # deriving the formula takes ~30 s on a cold cache
def test_limits_are_documented_and_the_engines_largest_formula_fits():
    from nnqft.derive.formulas import get_formula

    f = get_formula("linear-recurrent-shared/mean")
    text = sp.sstr(f.expression)
    assert len(text) < P.MAX_LENGTH
    by_name = {s.name: s for s in f.arguments}
    start = time.perf_counter()
    got = parse_expression(text, by_name)
    assert time.perf_counter() - start < 2.0
    assert got == sp.parse_expr(text, local_dict=by_name)  # what sympy's own reader gives
    for name in P.LIMITS:
        assert name in P.__doc__


# --- numbers (activation parameters) -------------------------------------------------------


@pytest.mark.parametrize(
    "text, want",
    [("0.1", sp.Rational(1, 10)), ("-2", -2), ("1/3", sp.Rational(1, 3)), ("+.25", sp.S(1) / 4)],
)
def test_numbers(text, want):
    assert parse_number(text) == want


@pytest.mark.parametrize(
    "text", ["pi", "z", "1+1", "2**3", "__import__('os')", "1/0", "'1'", "", "tanh(1)"]
)
def test_anything_but_a_number_is_an_invalid_parameter(text):
    with pytest.raises(InvalidParameter) as info:
        parse_number(text)
    assert "\n" not in str(info.value)


def test_activation_parameters_are_numbers_only(in_tmp):
    assert get_activation("leaky_relu(0.1)").name == "leaky_relu(1/10)"
    assert get_activation("leaky_relu(alpha=0.2)").name == "leaky_relu(1/5)"
    assert get_activation("abrelu(0.1, b=2)").name == "abrelu(1/10, 2)"
    for bad in (f"leaky_relu(__import__('os').system('touch {PWNED}'))", "leaky_relu(pi)"):
        with pytest.raises(InvalidParameter, match="not a number"):
            get_activation(bad)
    with pytest.raises(InvalidParameter, match="does not take"):
        get_activation("leaky_relu(beta=2)")


def test_factories_read_text_parameters_safely(in_tmp):
    from nnqft.rules.activations import _REGISTRY

    assert _REGISTRY["abrelu"]("1/3", 0.5).name == "abrelu(1/3, 1/2)"
    with pytest.raises(InvalidParameter, match="not a number"):
        _REGISTRY["leaky_relu"](f"__import__('os').system('touch {PWNED}')")


def test_lambda_activation_is_refused_with_the_reason():
    with pytest.raises(InvalidParameter, match="lambda cannot be used"):
        get_activation("lambda z: z")


# --- LaTeX --------------------------------------------------------------------------------


def test_latex_without_antlr_says_what_to_install(monkeypatch):
    from nnqft.derive.check import check

    monkeypatch.setitem(sys.modules, "antlr4", None)  # import antlr4 -> ImportError
    with pytest.raises(ParseError, match=r"pip install 'antlr4-python3-runtime==4\.11\.\*'"):
        check(r"\frac{\sigma_w^2}{2}", "mft/chi1/relu")


def test_latex_goes_through_the_same_whitelist():
    pytest.importorskip("antlr4", reason="LaTeX input needs antlr4 (optional extra nnqft[latex])")
    from nnqft.derive.check import parse_user_expression
    from nnqft.derive.formulas import get_formula

    f = get_formula("mft/chi1/relu")
    assert parse_user_expression(r"\frac{\sigma_w^2}{2}", f) == f.expression
    for bad, reason in [
        (r"2^{2^{2^{100}}}", "too large"),
        (r"\int x dx", "unknown function 'Integral'"),
        (r"\frac{1}{0}", "not a finite"),
    ]:
        start = time.perf_counter()
        with pytest.raises(ParseError, match=reason):
            parse_user_expression(bad, f)
        assert time.perf_counter() - start < 2.0


# --- property: sstr round trip ----------------------------------------------------------

_ATOMS = st.sampled_from(
    [S.sigma_w2, S.sigma_b2, S.q0, S.N, S.T, S.z, S.q, sp.pi, sp.E]
) | st.fractions(min_value=-50, max_value=50, max_denominator=12).map(
    lambda f: sp.Rational(f.numerator, f.denominator)
)
_UNARY = [
    sp.exp, sp.log, sp.sqrt, sp.tanh, sp.sinh, sp.cosh, sp.sin, sp.cos, sp.erf, sp.erfc,
    sp.atan, sp.Abs, sp.Heaviside, sp.sign, sp.asin,
]  # fmt: skip


def _safe(f, *args):
    try:
        return f(*args)
    except (ValueError, TypeError):  # e.g. Max of a complex number: not a test case
        return sp.nan


def _extend(children):
    two = st.tuples(children, children)
    return st.one_of(
        st.tuples(st.sampled_from(_UNARY), children).map(lambda t: _safe(t[0], t[1])),
        two.map(lambda t: t[0] + t[1]),
        two.map(lambda t: t[0] * t[1]),
        two.map(lambda t: t[0] - t[1]),
        st.tuples(children, st.integers(-4, 4)).map(lambda t: t[0] ** t[1]),
        two.map(lambda t: _safe(sp.Max, *t)),
        two.map(lambda t: _safe(sp.Min, *t)),
    )


_POINT = {
    S.sigma_w2: sp.Rational(13, 10), S.sigma_b2: sp.Rational(1, 7), S.q0: sp.Rational(9, 10),
    S.N: 5, S.T: 3, S.z: sp.Rational(37, 100), S.q: sp.Rational(11, 10),
}  # fmt: skip


@given(st.recursive(_ATOMS, _extend, max_leaves=12))
def test_sstr_round_trip(expr):
    assume(isinstance(expr, sp.Expr) and not expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan))
    assume(not expr.has(sp.I))  # the imaginary unit is not in the whitelist
    text = sp.sstr(expr)
    got = parse_expression(text)
    # the oracle: sympy's own reader of its printed form (eval-based; fine on this text)
    assert got == sp.parse_expr(text, local_dict=P.default_names()), text
    # and the tree itself: sympy re-reading its own print can regroup (it distributes the
    # minus of -(a + b)*c), so where the trees differ the values must agree
    if got != expr:
        a, b = (complex(sp.N(e.subs(_POINT), 30)) for e in (got, expr))
        assert a != a or abs(a - b) <= 1e-20 * (1 + abs(b)), text  # a != a: undefined there
