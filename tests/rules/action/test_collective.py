"""The collective fields, the saddle point and the distance recursion
(nnqft.rules.action.collective)."""

import pytest
import sympy as sp

from nnqft.algebra import normal_form
from nnqft.rules import action as A
from nnqft.rules import symbols as S
from nnqft.rules.network import Network

t, s = A.TIME[:2]
N = S.N
NETS = [
    Network("feedforward", "linear"),
    Network("recurrent", "linear", bias="shared"),
    Network("recurrent", "linear", bias="fresh"),
]


def same(a, b):
    """Equal as sums over indices (canonical normal forms)."""
    return normal_form(sp.expand(a - b)) == []


@pytest.mark.parametrize("net", NETS, ids=lambda n: f"{n.arch}-{n.bias}")
def test_collective_fields_decouple_the_neurons(net):
    cf = A.collective_fields(net)
    # the single-neuron action has no neuron index and no network fields left
    assert not cf.single_neuron.has(A.z, A.zt)
    assert not (cf.single_neuron.free_symbols & set(A.NEURON))
    # N x (single-neuron) reproduces the averaged action once Q takes its definition
    n = net.width
    qq = cf.qq_term
    assert qq.has(A.Q) and qq.has(A.Qt)
    # the definition is symmetric under (t) <-> (s)
    rhs = cf.definition.rhs
    assert same(rhs, rhs.xreplace({t: s, s: t}))
    assert cf.initial == sp.Eq(A.Q(1, 1), net.sigma_w2 * net.q0)
    assert n == N


@pytest.mark.parametrize("net", NETS, ids=lambda n: f"{n.arch}-{n.bias}")
def test_saddle_point_conjugate_vanishes_and_maps_agree_across_architectures(net):
    sp1 = A.saddle_point(net)
    assert sp1.solution_qt.rhs == 0
    q = S.q
    expected = S.sigma_w2 * A.GaussianMean(sp.Lambda(A.u, A.phi(A.u) ** 2), q) + S.sigma_b2
    assert sp.simplify(sp1.maps["length"] - expected) == 0
    sp2 = A.saddle_point(net, replicas=2)
    assert sp2.maps["length"] == sp1.maps["length"]  # replica diagonal = one input


def test_recurrent_two_time_covariance_keeps_its_off_diagonal():
    shared = A.saddle_point(NETS[1]).two_time.rhs
    fresh = A.saddle_point(NETS[2]).two_time.rhs
    ff = A.saddle_point(NETS[0]).two_time.rhs
    assert ff.has(sp.KroneckerDelta)  # layers are independent
    assert not shared.has(sp.KroneckerDelta)  # shared bias correlates all times
    assert sp.simplify((shared - fresh).xreplace({s: t})) == 0  # equal at t = s


def test_distance_recursion_and_lyapunov():
    dr = A.distance_recursion(NETS[0])
    expected_chi = S.sigma_w2 * A.GaussianMean(
        sp.Lambda(A.u, sp.Derivative(A.phi(A.u), A.u) ** 2), A.q_star
    )
    assert sp.simplify(dr.chi_1 - expected_chi) == 0
    assert dr.lyapunov.rhs == sp.log(A.chi_1) / 2
    assert dr.critical == sp.Eq(A.chi_1, 1)
    assert dr.ordered == (A.chi_1 < 1) and dr.chaotic == (A.chi_1 > 1)
