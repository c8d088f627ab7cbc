"""The integer-depth generator over time-labelled rules (nnqft.diagrams.timed) against the
closed forms in symbolic T, which come from a different set of diagrams (the reduced,
ladder-resummed chord and layer diagrams) and are checked elsewhere against exhaustive
Wick enumeration of the W's and Monte Carlo of real networks."""

import pytest
import sympy as sp

from nnqft.derive.loops.amplitudes import (
    feedforward_variance_coefficients,
    recurrent_mean_coefficients,
)
from nnqft.derive.loops.variance import variance_coefficients_at
from nnqft.diagrams import timed
from nnqft.diagrams.from_rules import diagrams_from_rules
from nnqft.diagrams.timed import (
    coefficients,
    leg_symmetry,
    timed_diagrams,
    vertex_instances,
)
from nnqft.errors import InvalidParameter, InvalidType, OrderTooHigh
from nnqft.rules import symbols as S
from nnqft.rules.feynman import get_rules

MODELS = ("linear-feedforward", "linear-recurrent-shared", "linear-recurrent-fresh")


def _equal(a: dict, b: dict, orders) -> None:
    for k in orders:
        assert sp.simplify(a.get(k, 0) - b.get(k, 0)) == 0, k


def _weights_hold(diagrams) -> None:
    for d in diagrams:
        assert d.weight == d.time_orbits * d.symmetry_factor, d.id


@pytest.mark.parametrize("model", MODELS)
def test_vertex_symmetry_and_instances(model):
    rules = get_rules(model)
    assert leg_symmetry(rules.vertex("double_trace")) == 2
    # the vertex coefficient in exp(S) is the action's: sigma_w2/(2N)
    recurrent = model != "linear-feedforward"  # one W for all steps: K(t, s) = 1
    instances = vertex_instances(rules, 3)
    assert len(instances) == (9 if recurrent else 3)
    assert {sp.simplify(v.weight - S.sigma_w2 / (2 * S.N)) for v in instances} == {0}


@pytest.mark.parametrize("bias", ["shared", "fresh"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_recurrent_mean_equals_closed_forms(bias, depth):
    diagrams = timed_diagrams(get_rules(f"linear-recurrent-{bias}"), depth=depth)
    closed = {k: v.subs(S.T, depth) for k, v in recurrent_mean_coefficients(bias, 3).items()}
    got = coefficients(diagrams)
    _equal(got, closed, range(4))
    # at depth T, E Q(T) is a polynomial in 1/N of degree at most T: nothing is missing
    assert max(got) <= depth
    _weights_hold(diagrams)


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
def test_feedforward_mean_is_mean_field(depth):
    got = coefficients(timed_diagrams(get_rules("linear-feedforward"), depth=depth))
    w, b, q0 = S.sigma_w2, S.sigma_b2, S.q0
    exact = b * sum(w**k for k in range(depth)) + w**depth * q0
    assert set(got) == {0}
    assert sp.expand(got[0] - exact) == 0


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_feedforward_variance_equals_closed_form_through_third_order(depth):
    diagrams = timed_diagrams(get_rules("linear-feedforward"), (("z", depth),) * 4, depth)
    closed = {k: v.subs(S.T, depth) for k, v in feedforward_variance_coefficients(3).items()}
    got = coefficients(diagrams)
    assert 0 not in got  # the cumulant starts at 1/N
    _equal(got, closed, range(4))
    _weights_hold(diagrams)


@pytest.mark.parametrize(
    "model,depth",
    [
        ("linear-recurrent-shared", 1),
        ("linear-recurrent-shared", 2),
        ("linear-recurrent-fresh", 1),
        ("linear-recurrent-fresh", 2),
    ],
)
def test_recurrent_variance_equals_integer_depth_route(model, depth):
    rules = get_rules(model)
    diagrams = timed_diagrams(rules, (("z", depth),) * 4, depth)
    got = coefficients(diagrams)
    _equal(got, variance_coefficients_at(rules, 2, depth), range(3))
    _weights_hold(diagrams)


def test_diagrams_from_rules_dispatches_with_a_depth():
    rules = get_rules("linear-recurrent-fresh")
    ds = diagrams_from_rules(rules, 4, 1, depth=2)
    assert ds and {d.order for d in ds} == {1}
    got = sum(d.value for d in ds)
    assert sp.simplify(got - variance_coefficients_at(rules, 1, 2)[1]) == 0
    entry = ds[0].to_dict()
    assert {"id", "order", "n_power", "symmetry_factor", "weight", "value"} <= set(entry)


def test_graph_records_times_and_the_input():
    (d,) = [
        d
        for d in timed_diagrams(get_rules("linear-feedforward"), depth=1)
        if d.value == S.q0 * S.sigma_w2
    ]
    kinds = dict(d.graph.nodes(data="kind"))
    assert kinds["x"] == "input"
    assert d.graph.nodes["L1"]["time"] == 1
    assert d.symmetry_factor == sp.Rational(1, 2) and d.weight == 1  # the two input legs


def test_refusals(monkeypatch):
    rules = get_rules("linear-recurrent-shared")
    with pytest.raises(InvalidParameter, match="depth"):
        diagrams_from_rules(rules, 2, 0)
    with pytest.raises(InvalidParameter, match="time labels"):
        diagrams_from_rules(get_rules("on-phi4"), 2, 0, depth=2)
    with pytest.raises(InvalidParameter, match="legs must be 2"):
        diagrams_from_rules(rules, 3, 0, depth=2)
    with pytest.raises(InvalidType):
        diagrams_from_rules("linear-recurrent-shared", 2, 0, depth=2)
    with pytest.raises(InvalidParameter, match="depth must be >= 1"):
        timed_diagrams(rules, depth=0)
    with pytest.raises(InvalidParameter, match="time must lie"):
        timed_diagrams(rules, (("z", 3), ("z", 3)), depth=2)
    with pytest.raises(InvalidParameter, match="readout"):
        timed_diagrams(rules, (("z", 2),) * 4, depth=2, readout=((0, 1), (0, 2)))
    with pytest.raises(InvalidParameter, match="time labels"):
        timed_diagrams(get_rules("on-phi4"), depth=2)
    monkeypatch.setattr(timed, "MAX_CONTRACTIONS", 50)
    with pytest.raises(OrderTooHigh, match="contractions"):
        timed_diagrams(rules, (("z", 3),) * 4, depth=3)


def test_kernels_that_are_functions_of_time_are_refused():
    """The collective-field theory's lines are chi products, not numbers at fixed times."""
    from nnqft.derive.fluctuations.rules import collective_rules
    from nnqft.rules.network import Network

    rules = collective_rules(Network("feedforward", "tanh", 1.5, 0.05))
    with pytest.raises(InvalidParameter, match="integer-depth generator takes time kernels"):
        diagrams_from_rules(rules, 2, 1, depth=2)
