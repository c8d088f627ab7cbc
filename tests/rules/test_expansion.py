"""The expansion of an action into Feynman rules (nnqft.rules.expansion).

Independent routes: vertex factors against the derivatives of the action (Taylor
coefficients, the full vertex function d^n E/dx^n); propagators against the inverse of the
explicit Hessian of the action written out at small N, T; and the perturbation series built
from the derived rules (Gaussian moments with the derived propagators) against numerical
integration of the zero-dimensional weight (scipy quad, Richardson in the coupling).
"""

import itertools

import pytest
import sympy as sp
from scipy import integrate

from nnqft.errors import InvalidParameter, InvalidType, NnqftError
from nnqft.rules.action.models import (
    O_N_INDEX,
    PHI,
    Action,
    linear_network_action,
    on_phi4_action,
)
from nnqft.rules.expansion import Leg, monomials_of, rules_from_action
from nnqft.rules.feynman import TIMES, Field
from nnqft.rules.network import Network
from nnqft.rules.symbols import sigma_b2

x, y = sp.symbols("x y")
a3, a6, lam, m = sp.symbols("a3 a6 lambda m")
FX, FY = Field("x", "x", "scalar x", ""), Field("y", "y", "scalar y", "")


def toy_cubic_sextic():
    """S = x^2/2 + a3 x^3/3! + a6 x^6/6!, weight exp(-S)."""
    return Action("toy", x**2 / 2 + a3 * x**3 / 6 + a6 * x**6 / 720, -1, (FX,))


def toy_two_fields():
    """S = (x^2 + y^2)/2 + m x y + lambda x^2 y^2 / 4, weight exp(-S) (bounded for |m| < 1)."""
    return Action("toy2", (x**2 + y**2) / 2 + m * x * y + lam * x**2 * y**2 / 4, -1, (FX, FY))


# --- a second route for zero-dimensional theories: the series from the rules ----------------


def gaussian_moment(cov: sp.Matrix, powers) -> sp.Expr:
    """E[prod x_k^p_k] under N(0, cov) by Isserlis: sum over the perfect matchings."""
    legs = [k for k, p in enumerate(powers) for _ in range(p)]
    if len(legs) % 2:
        return sp.Integer(0)

    def matchings(items):
        if not items:
            yield []
            return
        first, rest = items[0], items[1:]
        for k, other in enumerate(rest):
            for tail in matchings(rest[:k] + rest[k + 1 :]):
                yield [(first, other), *tail]

    return sp.Add(*[sp.Mul(*[cov[a, b] for a, b in mm]) for mm in matchings(legs)])


def series_from_rules(rules, names, observable, order):
    """<observable> through ``order`` in the couplings, built only from the derived rules:
    the propagators give the Gaussian covariance, each vertex is coupling/prod(n_f!) times
    its legs (the inverse of the coupling convention for time- and index-free vertices)."""
    cov = sp.zeros(len(names))
    for p in rules.propagators:
        i, j = names.index(p.fields[0]), names.index(p.fields[1])
        cov[i, j] = cov[j, i] = p.value
    eps = sp.Symbol("eps")
    syms = sp.symbols(" ".join(names))
    syms = syms if isinstance(syms, tuple) else (syms,)
    v = sp.Integer(0)
    for vertex in rules.vertices:
        counts = [vertex.legs.count(n) for n in names]
        v += (
            vertex.coupling
            / sp.Mul(*[sp.factorial(c) for c in counts])
            * sp.Mul(*[s**c for s, c in zip(syms, counts)])
        )

    def expect(poly):
        poly = sp.Poly(sp.expand(poly), *syms)
        return sp.Add(*[c * gaussian_moment(cov, mon) for mon, c in poly.terms()])

    weight = sum((eps * v) ** k / sp.factorial(k) for k in range(order + 1))
    num = expect(observable * weight)
    den = expect(weight)
    return sp.series(num / den, eps, 0, order + 1).removeO().subs(eps, 1)


def numeric_mean(weight, observable, ranges):
    """<observable> under exp(weight) by quadrature (1 or 2 variables)."""
    if len(ranges) == 1:
        f = sp.lambdify(x, sp.exp(weight))
        fo = sp.lambdify(x, observable * sp.exp(weight))
        opts = dict(epsabs=1e-13, epsrel=1e-13, limit=200)
        return integrate.quad(fo, *ranges[0], **opts)[0] / integrate.quad(f, *ranges[0], **opts)[0]
    f = sp.lambdify((y, x), sp.exp(weight))
    fo = sp.lambdify((y, x), observable * sp.exp(weight))
    (x0, x1), (y0, y1) = ranges
    opts = dict(epsabs=1e-12, epsrel=1e-12)
    return (
        integrate.dblquad(fo, x0, x1, y0, y1, **opts)[0]
        / integrate.dblquad(f, x0, x1, y0, y1, **opts)[0]
    )


def first_order_coefficient(value_at, h):
    """d/dc at c = 0 of a smooth function by Richardson (error O(h^2))."""
    return (4 * (value_at(h / 2) - value_at(0)) / (h / 2) - (value_at(h) - value_at(0)) / h) / 3


# --- the tests ------------------------------------------------------------------------------


def test_cubic_and_sextic_vertices_are_the_taylor_coefficients():
    """Coupling per diagram = -d^n S/dx^n at 0 (an n-leg vertex of one field: H = S_n)."""
    act = toy_cubic_sextic()
    rules = rules_from_action(act)
    assert {v.kind for v in rules.vertices} == {"x3", "x6"}
    for v in rules.vertices:
        assert v.legs == ("x",) * v.degree and v.index_pairings == ((1, ()),)
        assert v.coupling == -sp.diff(act.exponent, x, v.degree).subs(x, 0)
        assert v.time is None
    (prop,) = rules.propagators
    assert prop.value == 1 and prop.fields == ("x", "x") and prop.index_structure == "1"
    assert rules.n_per_index_loop == 1 and rules.external_fields == ("x",)


def test_sextic_series_from_the_rules_against_quadrature():
    """<x^2> = 1 - a6/8 + O(a6^2) from the rules (connected <x^2 x^6>_0 = 90, 90/720);
    the same slope from integrating exp(-S) numerically."""
    rules = rules_from_action(toy_cubic_sextic())
    series = series_from_rules(rules, ["x"], x**2, 1).subs(a3, 0)
    assert sp.expand(series) == 1 - a6 / 8
    act = toy_cubic_sextic()

    def at(c):
        return numeric_mean(-act.exponent.subs({a3: 0, a6: c}), x**2, [(-12, 12)])

    slope = first_order_coefficient(at, 0.002)
    assert abs(slope - float(series.coeff(a6))) < 1e-4


def test_cubic_series_from_the_rules_against_quadrature():
    """<x> = -a3/2 + O(a3^3, a3 a6) (a3 <x x^3>_0/3! = 3/6); numerically the slope in a3
    with a small sextic term that keeps the integral finite."""
    rules = rules_from_action(toy_cubic_sextic())
    series = series_from_rules(rules, ["x"], x, 1)
    assert sp.expand(series.subs(a6, 0)) == -a3 / 2
    act = toy_cubic_sextic()
    stab = 1e-3

    def at(c):
        return numeric_mean(-act.exponent.subs({a3: c, a6: stab}), x, [(-40, 40)])

    slope = (at(0.01) - at(-0.01)) / 0.02  # <x> is odd in a3: the O(a3^2) term cancels
    exact_at_stab = float(-sp.Rational(1, 6) * (3 - stab * 105 * 3 / 720 + stab * 15 * 3 / 720))
    assert abs(slope - exact_at_stab) < 2e-4
    assert abs(slope + 0.5) < 2e-3


def test_two_field_theory_propagators_invert_the_quadratic_form():
    rules = rules_from_action(toy_two_fields())
    props = {p.kind: p for p in rules.propagators}
    assert set(props) == {"x", "y", "x-y"}
    d = 1 - m**2
    assert sp.simplify(props["x"].value - 1 / d) == 0
    assert sp.simplify(props["x-y"].value + m / d) == 0
    (v,) = rules.vertices
    # d^4 E / dx^2 dy^2 = -lambda: the mixed vertex keeps its four legs
    assert v.legs == ("x", "x", "y", "y") and v.kind == "x2_y2"
    assert v.coupling == sp.diff(-toy_two_fields().exponent, x, 2, y, 2)


def test_two_field_series_against_quadrature():
    """<x^2> at orders 0 and 1 in lambda from the derived propagators and vertex, against
    dblquad: d<O>/dlambda = -<O dS/dlambda> + <O><dS/dlambda> at lambda = 0 (the series is
    asymptotic, so a finite difference in lambda converges too slowly to test it)."""
    rules = rules_from_action(toy_two_fields())
    series = series_from_rules(rules, ["x", "y"], x**2, 1)
    mv = 0.3
    act = toy_two_fields()
    free = -act.exponent.subs({m: mv, lam: 0})
    box = [(-9, 9), (-9, 9)]
    ds = sp.diff(act.exponent, lam)
    slope = -numeric_mean(free, x**2 * ds, box) + numeric_mean(free, x**2, box) * numeric_mean(
        free, ds, box
    )
    assert abs(float(series.subs({m: mv, lam: 0})) - numeric_mean(free, x**2, box)) < 1e-8
    assert abs(float(sp.diff(series, lam).subs(m, mv)) - slope) < 1e-7


def test_phi4_vertex_function_is_coupling_times_tensor():
    """d^4 E/dphi_a dphi_b dphi_c dphi_d (E = -S at N = 2) = coupling x vertex tensor."""
    n = 2
    act = on_phi4_action(width=n)
    (v,) = rules_from_action(act).vertices
    phis = [PHI[k] for k in range(1, n + 1)]
    e = -act.exponent.doit()
    for legs in itertools.product(range(n), repeat=4):
        direct = sp.diff(e, *[phis[k] for k in legs])
        tensor = sum(
            w for w, pairs in v.index_pairings if all(legs[p] == legs[q] for p, q in pairs)
        )
        assert sp.expand(direct - v.coupling * tensor) == 0


@pytest.mark.parametrize(
    "arch,bias", [("feedforward", None), ("recurrent", "shared"), ("recurrent", "fresh")]
)
def test_msrdj_propagators_invert_the_explicit_hessian(arch, bias):
    """Write the averaged action out at N = 1, T = 3, take its Hessian in (z, zt) and invert
    it: <z z>, <z zt>, <zt zt> equal the derived lines' kernels at every pair of times."""
    depth = 3
    act = linear_network_action(Network(arch, "linear", bias=bias, width=1, depth=depth))
    kernels = dict(act.kernels)
    e = act.weight.replace(
        lambda f: f.func in kernels, lambda f: kernels[f.func].subs(dict(zip(TIMES, f.args)))
    )
    e = e.doit()
    from nnqft.rules.action.objects import z, zt

    fields = [z[1, t] for t in range(1, depth + 1)] + [zt[1, t] for t in range(1, depth + 1)]
    hessian = sp.Matrix(depth * 2, depth * 2, lambda p, q: sp.diff(e, fields[p], fields[q]))
    quadratic = hessian.subs({f: 0 for f in fields} | {z[1, 0]: 0})  # drop the vertex
    cov = (-quadratic).inv()
    from nnqft.rules.feynman import get_rules

    rules = get_rules(act.model)
    response, correlator = rules.propagator("response"), rules.propagator("correlator")
    for a, b in itertools.product(range(depth), repeat=2):
        assert sp.simplify(cov[a, depth + b] - response.value * response.time.at(a + 1, b + 1)) == 0
        assert sp.simplify(cov[a, b] - correlator.value * correlator.time.at(a + 1, b + 1)) == 0
        assert cov[depth + a, depth + b] == 0  # <zt zt>_0 = 0
    assert correlator.value == sigma_b2


def test_timed_toy_with_a_scaled_kinetic_term():
    """S = sum_t (-2 zt z + 3 zt^2) + c sum_t zt(t) z(t-1)^2: G_R = 1/2, Sigma = 6 delta,
    correlator Sigma/4 = 3/2; the cubic vertex couples zt(t) z(t-1) z(t-1) with factor 2c
    (its two z legs are interchangeable) and one index shared by three legs."""
    from nnqft.algebra.indices import NEURON, TIME
    from nnqft.rules.action.objects import z, zt

    i, t = NEURON[0], TIME[0]
    n, depth, c = sp.symbols("N T c", positive=True)
    s_ = sp.Sum(
        -2 * zt[i, t] * z[i, t] + 3 * zt[i, t] ** 2 + c * zt[i, t] * z[i, t - 1] ** 2,
        (i, 1, n),
        (t, 1, depth),
    )
    fields = (Field("z", "z", "z", "i"), Field("zt", "zt", "zt", "i"))
    act = Action("timed", s_, 1, fields, slots=("index", "time"), response=(("zt", "z"),))
    rules = rules_from_action(act)
    assert rules.propagator("response").value == sp.Rational(1, 2)
    corr = rules.propagator("correlator")
    assert corr.value == sp.Rational(3, 2) and corr.time.kernel == sp.KroneckerDelta(*TIMES)
    (v,) = rules.vertices
    assert v.legs == ("zt", "z", "z") and v.coupling == 2 * c
    assert v.time.legs == (t, t - 1, t - 1) and v.time.summed == (t,)
    assert v.index_pairings == ((1, ((0, 1), (1, 2))),)


def _messages(action):
    with pytest.raises(NnqftError) as err:
        rules_from_action(action)
    assert isinstance(err.value, (ValueError, TypeError))
    text = str(err.value)
    assert "\n" not in text and text
    return text


def test_bad_actions_raise_one_line_errors():
    n = sp.Symbol("N", positive=True, integer=True)
    a = O_N_INDEX
    W = sp.IndexedBase("W")
    on = on_phi4_action()
    cases = {
        "non-polynomial factor": Action("bad", sp.tanh(x) + x**2 / 2, -1, (FX,)),
        "non-polynomial power": Action("bad", x**2 / 2 + 1 / x, -1, (FX,)),
        "unknown field W": Action(
            "bad",
            sp.Sum(PHI[a] ** 2 / 2 + W[a] * PHI[a] ** 3, (a, 1, n)),
            -1,
            on.fields,
            slots=("index",),
        ),
        "linear in the fields": Action("bad", x**2 / 2 + x, -1, (FX,)),
        "degenerate": Action("bad", (x + y) ** 2 / 2 + x**4, -1, (FX, FY)),
        "no quadratic part": Action("bad", x**3, -1, (FX,)),
        "has 2 indices": Action(
            "bad", sp.Sum(PHI[a, a] ** 2, (a, 1, n)), -1, on.fields, slots=("index",)
        ),
        "one leg only": Action(
            "bad",
            sp.Sum(PHI[a] ** 2 / 2, (a, 1, n))
            + sp.Sum(PHI[a], (a, 1, n)) * sp.Sum(PHI[a] ** 2, (a, 1, n)),
            -1,
            on.fields,
            slots=("index",),
        ),
        "not summed": Action("bad", PHI[a] ** 2 / 2, -1, on.fields, slots=("index",)),
    }
    for expected, action in cases.items():
        assert expected in _messages(action), expected
    with pytest.raises(InvalidParameter, match="not a polynomial.*linear network"):
        from nnqft.rules.feynman import rules_from_action as from_network

        from_network(Network("feedforward", "tanh"))
    with pytest.raises(InvalidType, match="needs an Action"):
        rules_from_action("phi^4")
    # the tanh network's action, expanded directly: phi(z) = tanh(z) is not polynomial
    assert "non-polynomial" in _messages(linear_network_action(Network("feedforward", "tanh")))


def test_monomials_and_legs():
    (quadratic, quartic) = monomials_of(on_phi4_action())
    assert quadratic.coefficient == sp.Rational(-1, 2) and quartic.degree == 4
    assert {leg.field for leg in quartic.legs} == {"phi"} and quartic.legs[0].times == ()
    assert Leg("Q", None, (TIMES[0], TIMES[1])).time == sp.Tuple(*TIMES)


def test_stabiliser_counts_the_time_keeping_permutations():
    """A 2+2 vertex with all four times equal keeps all 4 permutations (coupling 4c),
    with distinct paired times only the joint swap (2c): the same vertex function."""
    from nnqft.algebra.indices import NEURON, TIME
    from nnqft.rules.action.objects import z, zt

    i, j = NEURON[:2]
    t = TIME[0]
    n, depth, c = sp.symbols("N T c", positive=True)
    kin = sp.Sum(-zt[i, t] * z[i, t], (i, 1, n), (t, 1, depth))
    local = c * sp.Sum(
        sp.Sum(zt[i, t] ** 2, (i, 1, n)) * sp.Sum(z[j, t - 1] ** 2, (j, 1, n)), (t, 1, depth)
    )
    fields = (Field("z", "z", "z", "i"), Field("zt", "zt", "zt", "i"))
    act = Action("t", kin + local, 1, fields, slots=("index", "time"), response=(("zt", "z"),))
    (v,) = rules_from_action(act).vertices
    assert v.coupling == 4 * c and v.time.legs == (t, t, t - 1, t - 1)
    assert v.index_pairings == ((1, ((0, 1), (2, 3))),)
