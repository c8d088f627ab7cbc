"""The feedforward Var Q(T) from its layer-pairing diagrams, against three other routes: the
series of the exact recursion (symbolic T), exhaustive Wick enumeration (integer T) and a
brute-force sum over unreduced layer-pairing sequences (each diagram on its own)."""

import json
import os
import subprocess
import sys
from itertools import product

import pytest
import sympy as sp

from nnqft.derive.loops import amplitudes as A
from nnqft.derive.loops.feedforward_variance import (
    LayerDiagramValue,
    member_value,
    variance_coefficients,
    variance_diagrams,
)
from nnqft.derive.loops.linear import exact_variance, feedforward_variance
from nnqft.diagrams.layer_pairings import reduce_layers
from nnqft.rules.feynman import get_rules
from nnqft.rules.network import Network
from nnqft.rules.symbols import N, T, q0, sigma_b2, sigma_w2

RULES = get_rules("linear-feedforward")
ORDER = 4


@pytest.fixture(scope="module")
def coefficients():
    return variance_coefficients(RULES, ORDER)


def test_equals_the_series_of_the_exact_recursion_symbolically(coefficients):
    recursion = A.feedforward_variance_coefficients(ORDER)
    for d in range(ORDER + 1):
        assert sp.simplify(coefficients[d] - recursion[d]) == 0, d
        assert sp.simplify((coefficients[d] - recursion[d]).subs(sigma_b2, 0)) == 0, d
    assert coefficients[0] == 0
    # sigma_b2 = 0: Var Q/m^2 = (1 + 2/N)^T - 1, so V_d = 2^d C(T, d) q0^2 s^(2T)
    for d in range(1, ORDER + 1):
        expected = 2**d * sp.binomial(T, d) * q0**2 * sigma_w2 ** (2 * T)
        assert sp.simplify(coefficients[d].subs(sigma_b2, 0) - sp.expand_func(expected)) == 0


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
def test_equals_exhaustive_wick_enumeration_at_integer_depth(coefficients, depth):
    exact = sp.expand(exact_variance(Network("feedforward", "linear", depth=depth)))
    for d in range(ORDER + 1):
        # the coefficient of N^-d of the exact polynomial in 1/N
        term = exact.coeff(N, -d)
        value = coefficients[d].subs(T, depth)
        # the closed forms have removable poles at sigma_w2 = 1: compare as rational functions
        assert sp.cancel(sp.together(value - term)) == 0, (depth, d)


def _matchings(items):
    if not items:
        yield ()
        return
    first, rest = items[0], items[1:]
    for i, other in enumerate(rest):
        for tail in _matchings(rest[:i] + rest[i + 1 :]):
            yield ((first, other), *tail)


def _brute_force_by_diagram(depth):
    """{reduced diagram: sum of the weights of its unreduced configurations at ``depth``},
    the weight read directly: sigma_w2 per W pair, sigma_b2 per bias pair, q0 per input
    pair."""
    out = {}
    for sources in product(range(depth + 1), repeat=4):
        counts = {s: sources.count(s) for s in set(sources)}
        if any(n % 2 for n in counts.values()):
            continue
        per_layer = [
            list(_matchings([a for a in range(4) if sources[a] < t])) for t in range(1, depth + 1)
        ]
        four = any(n == 4 for s, n in counts.items() if s)
        n_w = sum(depth - s for s in sources) // 2
        n_b = sum(n // 2 for s, n in counts.items() if s)
        n_x = counts.get(0, 0) // 2
        weight = sigma_w2**n_w * sigma_b2**n_b * q0**n_x
        for pairings in product(*per_layer):
            for bias in list(_matchings([0, 1, 2, 3])) if four else [None]:
                d = reduce_layers(sources, pairings, bias)
                if d is not None:
                    out[d] = out.get(d, 0) + weight
    return out


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_each_diagram_equals_its_unreduced_configurations(depth):
    brute = _brute_force_by_diagram(depth)
    diagrams = variance_diagrams(RULES, depth + 1)
    from nnqft.diagrams.layer_pairings import LayerDiagram

    for cls in diagrams:
        members = [LayerDiagram.from_code(c) for c in cls.types]
        total = sum(brute.get(m, 0) for m in members)
        assert sp.cancel(sp.together(cls.value.subs(T, depth) - total)) == 0, cls.name
        for m in members:
            value = member_value(m, RULES).subs(T, depth)
            assert sp.cancel(sp.together(value - brute.get(m, 0))) == 0, m


def test_classes_orbit_stabilizer_and_orders():
    ds = variance_diagrams(RULES, ORDER)
    counts = {}
    for d in ds:
        assert isinstance(d, LayerDiagramValue) and d.name
        assert d.multiplicity == 8 * d.symmetry_factor  # |orbit| = |group| / |stabilizer|
        assert d.n_power == -d.order
        counts[d.order] = counts.get(d.order, 0) + d.multiplicity
    assert counts == {d: 6 * 2**d for d in range(1, ORDER + 1)}


def test_correlator_lists_its_diagrams_and_keeps_the_exact_form(tmp_path, monkeypatch):
    monkeypatch.setenv("NNQFT_CACHE_DIR", str(tmp_path))
    net = Network("feedforward", "linear")
    for _ in range(2):  # computed, then read back from the cache
        c = A.correlator(net, "variance", order=3)
        assert all(isinstance(d, LayerDiagramValue) for d in c.diagrams)
        for k in range(4):
            total = sp.Add(*[d.value for d in c.diagrams if d.order == k])
            assert sp.simplify(total - c.coefficients[k]) == 0
        assert {d.order for d in c.diagrams} == {1, 2, 3}
    steps = [s.title for s in c.derivation().steps]
    assert "Layer pairings" in steps and A.DIAGRAMS_TITLE in steps
    figures = A.diagram_figures(c.diagrams)
    assert figures and all("tikzpicture" in f.tikz for f in figures)
    exact = A.correlator(net, "variance", exact=True)
    assert exact.exact and sp.simplify(exact.expression - feedforward_variance()) == 0
    assert exact.diagrams and set(exact.coefficients) == {0, 1, 2, 3}
    high = A.correlator(net, "variance", order=5)  # beyond the recurrent engine's reach
    assert max(d.order for d in high.diagrams) == 5


def test_cli_json_diagrams_sum_to_the_coefficients(tmp_path):
    env = dict(os.environ, NNQFT_CACHE_DIR=str(tmp_path))
    args = ["correlator", "--arch", "feedforward", "--activation", "linear"]
    args += ["--observable", "variance", "--order", "2", "--json"]
    out = subprocess.run(
        [sys.executable, "-m", "nnqft", *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    names = {str(x): x for x in (N, T, q0, sigma_b2, sigma_w2)}
    keys = {"id", "order", "symmetry_factor", "n_power", "value", "latex", "multiplicity"}
    for k, coefficient in data["coefficients"].items():
        entries = [d for d in data["diagrams"] if d["order"] == int(k)]
        assert all(keys | {"chords", "types", "name"} <= set(d) for d in entries)
        total = sp.Add(*[sp.sympify(d["value"], locals=names) for d in entries])
        assert sp.simplify(total - sp.sympify(coefficient, locals=names)) == 0
