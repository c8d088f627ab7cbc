"""FeynmanRules: the rules expanded from each model's action equal the tables written
from docs/conventions.md §4, §6 (kept here, as expectations only), and the vertex tensors
and couplings reproduce the actions they come from."""

import itertools

import numpy as np
import pytest
import sympy as sp

from nnqft.errors import InvalidParameter, UnknownName
from nnqft.rules.feynman import (
    MODELS,
    TIMES,
    FeynmanRules,
    Field,
    Propagator,
    TimeStructure,
    Vertex,
    g,
    get_rules,
    linear_network_rules,
    on_phi4_rules,
)
from nnqft.rules.symbols import N, T, q0, sigma_b2, sigma_w2

NETS = [("feedforward", None), ("recurrent", "shared"), ("recurrent", "fresh")]


# --- the tables as written from docs/conventions.md (expectations, not product code) ------


def expected_on_phi4():
    """§6: weight exp(-x.x/2 - (g/4!)(x.x)^2); vertex -g (dd + dd + dd)/3, propagator 1."""
    third = sp.Rational(1, 3)
    vertex = Vertex(
        kind="phi4",
        legs=("phi", "phi", "phi", "phi"),
        coupling=-g,
        index_pairings=(
            (third, ((0, 1), (2, 3))),
            (third, ((0, 2), (1, 3))),
            (third, ((0, 3), (1, 2))),
        ),
    )
    return FeynmanRules(
        model="on-phi4",
        fields=(Field("phi", r"\phi", "O(N) vector field", "a"),),
        propagators=(
            Propagator(
                kind="phi", fields=("phi", "phi"), value=sp.Integer(1), index_structure="delta_ab"
            ),
        ),
        vertices=(vertex,),
        external_fields=("phi",),
        parameters=(g, N),
        description="O(N) vector model, weight exp(-phi.phi/2 - (g/4!)(phi.phi)^2)",
        notes=("'t Hooft coupling lambda = g N; large N keeps the cactus diagrams",),
    )


def expected_linear(arch, bias=None):
    """§4: response line zt -> z (delta_ts, causal), correlator sigma_b2 B(t,s), vertex
    sigma_w2/N with K(t,s) on legs (zt(t), zt(s), z(t-1), z(s-1))."""
    t, s = TIMES
    delta = sp.KroneckerDelta(t, s)
    if arch == "feedforward":
        kernel, bias_kernel = delta, delta
    else:
        kernel = sp.Integer(1)
        bias_kernel = sp.Integer(1) if bias == "shared" else delta
    vertex = Vertex(
        kind="double_trace",
        legs=("zt", "zt", "z", "z"),
        coupling=sigma_w2 / N,
        index_pairings=((sp.Integer(1), ((0, 1), (2, 3))),),
        time=TimeStructure(kernel, "K", legs=(t, s, t - 1, s - 1), summed=(t, s)),
    )
    return FeynmanRules(
        model=f"linear-{arch}" + (f"-{bias}" if arch == "recurrent" else ""),
        fields=(
            Field("z", "z", "pre-activation z_i(t)", "i"),
            Field("zt", r"\tilde z", "MSRDJ response field zt_i(t)", "i"),
        ),
        propagators=(
            Propagator(
                kind="response",
                fields=("zt", "z"),
                value=sp.Integer(1),
                directed=True,
                time=TimeStructure(delta, causal=sp.Ge(t, s)),
            ),
            Propagator(
                kind="correlator",
                fields=("z", "z"),
                value=sigma_b2,
                time=TimeStructure(bias_kernel, "B"),
            ),
        ),
        vertices=(vertex,),
        external_fields=("z",),
        parameters=(sigma_w2, sigma_b2, q0, N, T),
        description=f"linear {arch} network (phi(z) = z), disorder-averaged MSRDJ theory",
        notes=(
            "<zt zt>_0 = 0",
            "per vertex sigma_w2/N, per closed neuron-index loop N, per free time sum up to T",
        ),
    )


EXPECTED = {
    "on-phi4": expected_on_phi4,
    "linear-feedforward": lambda: expected_linear("feedforward"),
    "linear-recurrent": lambda: expected_linear("recurrent", "shared"),
    "linear-recurrent-shared": lambda: expected_linear("recurrent", "shared"),
    "linear-recurrent-fresh": lambda: expected_linear("recurrent", "fresh"),
}

#: prose the expansion writes itself (from the action's term), not compared with the tables
PROSE = ("description", "monomial")


def _data(element):
    return {k: v for k, v in element.__dict__.items() if k not in PROSE}


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_rules_expanded_from_the_action_equal_the_tables(model):
    """Field by field: every propagator and vertex (kind, fields, value, direction, index
    and time structure as sympy data), the fields, externals, parameters and the N per
    index loop; and the rules say where they come from."""
    derived, expected = get_rules(model), EXPECTED[model]()
    assert [_data(p) for p in derived.propagators] == [_data(p) for p in expected.propagators]
    assert [_data(v) for v in derived.vertices] == [_data(v) for v in expected.vertices]
    for name in (
        "model",
        "fields",
        "external_fields",
        "parameters",
        "n_per_index_loop",
        "description",
        "notes",
    ):
        assert getattr(derived, name) == getattr(expected, name), name
    assert derived.derived_from == "action" and derived.action.startswith("exp(")
    as_json = derived.to_dict()
    assert as_json["derived_from"] == "action" and as_json["action"] == derived.action
    for element in derived.propagators + derived.vertices:
        assert element.description  # written by the expansion


def vertex_tensor(vertex, n):
    """The vertex's index tensor built from its pairings (weights x products of deltas)."""
    t = np.zeros((n,) * vertex.degree)
    for weight, pairs in vertex.index_pairings:
        for idx in itertools.product(range(n), repeat=vertex.degree):
            if all(idx[a] == idx[b] for a, b in pairs):
                t[idx] += float(weight)
    return t


def test_on_vertex_tensor_is_the_symmetrised_quartic():
    """sum T_abcd x_a x_b x_c x_d = (x.x)^2 and T is fully symmetric (so g/4! (x.x)^2
    gives the vertex factor -g T with 1/|Aut| per diagram)."""
    (vertex,) = on_phi4_rules().vertices
    rng = np.random.default_rng(3)
    for n in (1, 2, 3):
        t = vertex_tensor(vertex, n)
        for perm in itertools.permutations(range(4)):
            assert np.allclose(t, t.transpose(perm))
        x = rng.normal(size=n)
        assert np.isclose(np.einsum("abcd,a,b,c,d->", t, x, x, x, x), (x @ x) ** 2)


def test_on_coupling_gives_the_tadpole_and_sunset_terms():
    """-g x S x F of the order-1 and order-2 diagrams against the exact series."""
    from nnqft.diagrams.phi4 import generate_diagrams
    from nnqft.diagrams.zero_dim import zero_dim_series

    rules = on_phi4_rules()
    coupling = rules.vertices[0].coupling
    series = zero_dim_series(2)["propagator"]
    for order in (1, 2):
        total = 0
        for d in generate_diagrams(2, order, connected=True):
            total += coupling**order * d.value().subs(g, 1) / (-1) ** order
        assert sp.expand(total - series[order] * g**order) == 0


def test_double_trace_vertex_is_the_disorder_average():
    """E_W[(zt.W z)(zt'.W z')] = (sigma_w2/N)(zt.zt')(z.z') with E W_ij W_kl =
    (sigma_w2/N) d_ik d_jl: the covariance contracted with the legs (zt, zt', z, z')
    equals the coupling times the vertex's pairing tensor."""
    rules = linear_network_rules("feedforward")
    vertex = rules.vertex("double_trace")
    assert vertex.legs == ("zt", "zt", "z", "z")
    n, s2 = 3, 0.7
    rng = np.random.default_rng(5)
    zt, zt2, z, z2 = rng.normal(size=(4, n))
    cov = np.einsum("ik,jl->ijkl", np.eye(n), np.eye(n)) * s2 / n  # [i, j, k, l]
    exact = np.einsum("ijkl,i,j,k,l->", cov, zt, z, zt2, z2)
    tensor = vertex_tensor(vertex, n)  # legs (zt(t), zt(s), z(t-1), z(s-1))
    coupling = float(vertex.coupling.subs({sigma_w2: s2, N: n}))
    assert np.isclose(coupling * np.einsum("abcd,a,b,c,d->", tensor, zt, zt2, z, z2), exact)
    # a Monte Carlo of the same average (fixed seed, 6 standard errors)
    w = rng.normal(scale=np.sqrt(s2 / n), size=(200_000, n, n))
    samples = np.einsum("i,sij,j->s", zt, w, z) * np.einsum("i,sij,j->s", zt2, w, z2)
    err = samples.std() / np.sqrt(len(samples))
    assert abs(samples.mean() - exact) < 6 * err


@pytest.mark.parametrize("arch,bias", NETS)
def test_rules_from_a_network_expand_its_averaged_action(arch, bias):
    """A Network stands for its disorder-averaged MSRDJ action: the same rules as the
    model's (and the tables above)."""
    from nnqft.rules.feynman import rules_from_action
    from nnqft.rules.network import Network

    derived = rules_from_action(Network(arch, "linear", bias=bias))
    assert derived == linear_network_rules(arch, bias)
    expected = expected_linear(arch, bias)
    assert [_data(v) for v in derived.vertices] == [_data(v) for v in expected.vertices]


def test_rules_from_action_needs_the_linear_network():
    from nnqft.rules.feynman import rules_from_action
    from nnqft.rules.network import Network

    with pytest.raises(InvalidParameter, match="linear"):
        rules_from_action(Network("feedforward", "tanh"))


def test_linear_rules_structure():
    ff = linear_network_rules("feedforward")
    response = ff.propagator("response")
    assert response.directed and response.causal and response.fields == ("zt", "z")
    assert ff.propagator("correlator").value == sigma_b2
    rec = linear_network_rules("recurrent")
    assert rec.model == "linear-recurrent-shared"


@pytest.mark.parametrize("arch,bias", NETS)
def test_time_kernels_are_the_disorder_covariances(arch, bias):
    """Two routes: the kernels K(t,s), B(t,s) of the rules (data) and the time factors of
    the weight and bias covariances of rules.action (E W(t) W(s), E b(t) b(s))."""
    from nnqft.rules.action import disorder_families
    from nnqft.rules.network import Network

    net = Network(arch, "linear", bias=bias)
    weights, biases = disorder_families(net)
    i, j, k, l = sp.symbols("i j k l", integer=True, positive=True)
    neuron = {i: 1, k: 1, j: 2, l: 2}
    rules = linear_network_rules(arch, bias)
    kernel = rules.vertex("double_trace").time.kernel
    bias_kernel = rules.propagator("correlator").time.kernel
    for a, b in itertools.product(range(1, 4), repeat=2):
        times = dict(zip(TIMES, (a, b)))
        w_cov = weights.covariance.subs({**neuron, **times})
        assert w_cov == sigma_w2 / N * kernel.subs(times)
        assert biases.covariance.subs({**neuron, **times}) == sigma_b2 * bias_kernel.subs(times)


@pytest.mark.parametrize("arch,bias", NETS)
def test_time_structure_semantics(arch, bias):
    """What the data says: the response line is causal (zero when the head z is earlier
    than the tail zt), the vertex sums both times, and sum_{t,s <= T} K(t,s) counts the
    pairs of layers one W is shared across (T for feedforward, T^2 for recurrent)."""
    t, s = TIMES
    rules = linear_network_rules(arch, bias)
    response = rules.propagator("response").time
    assert [response.at(a, b) for a, b in ((2, 2), (3, 2), (2, 3))] == [1, 0, 0]
    assert response.causal == sp.Ge(t, s) and response.at(2, 3) == 0
    assert response.at(t, t + 1) == 0  # decided for symbolic times too
    assert response.at(t, s) == sp.Piecewise((sp.KroneckerDelta(t, s), t >= s), (0, True))
    vertex = rules.vertex("double_trace").time
    assert vertex.summed == (t, s) and vertex.legs == (t, s, t - 1, s - 1)
    depth = 4
    pairs = sum(vertex.at(a, b) for a in range(1, depth + 1) for b in range(1, depth + 1))
    assert pairs == (depth if arch == "feedforward" else depth**2)
    assert sp.summation(vertex.at(t, s), (t, 1, T), (s, 1, T)).subs(T, depth).doit() == pairs
    # the bias is one vector for all times exactly when it is shared
    shared = rules.propagator("correlator").time.at(1, 2) == 1
    assert shared == (bias == "shared")


def test_time_structure_text_is_rendered_from_the_data():
    """The strings of ``nnqft rules`` follow the data (no string is stored)."""
    t, s = TIMES
    delta = TimeStructure(sp.KroneckerDelta(t, s), "K")
    assert delta.render() == "K(t,s) = delta_ts" and delta.kernel_text() == "delta_ts"
    assert TimeStructure(sp.Integer(1), "B").render() == "B(t,s) = 1"
    other = TimeStructure(sp.exp(-abs(t - s)), "K")
    assert other.render() == "K(t,s) = " + sp.sstr(other.kernel) and other.at(2, 2) == 1
    fresh = linear_network_rules("recurrent", "fresh")
    assert fresh.vertex("double_trace").times == ("t", "s", "t-1", "s-1")
    as_json = fresh.to_dict()
    (vertex,) = as_json["vertices"]
    assert vertex["time"] == {
        "name": "K",
        "kernel": "1",
        "legs": ["t", "s", "t - 1", "s - 1"],
        "summed": ["t", "s"],
        "causal": None,
    }
    response, correlator = as_json["propagators"]
    assert response["time"]["causal"] == "t >= s" and response["causal"]
    assert correlator["time"]["kernel"] == sp.sstr(sp.KroneckerDelta(t, s))


def test_registry_and_serialisation():
    for name in MODELS:
        rules = get_rules(name)
        assert isinstance(rules, FeynmanRules)
        d = rules.to_dict()
        assert d["propagators"] and d["vertices"]
        assert len(rules.table()) == len(rules.propagators) + len(rules.vertices)


def test_bad_input():
    with pytest.raises(UnknownName, match="did you mean 'on-phi4'"):
        get_rules("on-phi")
    with pytest.raises(InvalidParameter):
        linear_network_rules("feedforward", bias="shared")
    with pytest.raises(UnknownName):
        linear_network_rules("convolutional")
    with pytest.raises(UnknownName):
        linear_network_rules("recurrent", bias="sometimes")
    with pytest.raises(UnknownName):
        on_phi4_rules().propagator("gluon")


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_cli_rules_say_they_are_derived_from_the_action(model):
    """``nnqft rules --json`` keeps its keys and adds derived_from and the action's text;
    the text output names the action too."""
    import json
    import subprocess
    import sys

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "nnqft", "rules", "--model", model, *args],
            capture_output=True,
            text=True,
            timeout=300,
        )

    out = json.loads(run("--json").stdout)
    assert out["derived_from"] == "action"
    assert out["action"] == get_rules(model).action
    old_keys = {"model", "description", "fields", "propagators", "vertices", "external_fields"}
    assert old_keys | {"parameters", "n_per_index_loop", "notes"} <= set(out)
    text = run().stdout
    assert "derived from the action: exp(" in text
