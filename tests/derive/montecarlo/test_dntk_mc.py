"""The empirical dNTK by finite differences of the NTK: against the definition taken apart
(Jacobians and Hessians of z by finite differences of the forward pass alone) and against a
closed form of a two-layer linear net."""

import numpy as np
import pytest

from nnqft.derive.montecarlo.dntk import empirical_dntk, network_dntk
from nnqft.errors import InvalidParameter
from nnqft.rules.activations import get_activation
from nnqft.rules.network import Network


def _outputs(theta, shapes, x, phi):
    """z(L) of one network whose weights and biases are flattened into theta."""
    h, i = x, 0
    for n, m in shapes:
        W = theta[i : i + n * m].reshape(n, m)
        b = theta[i + n * m : i + n * m + n]
        i += n * m + n
        z = W @ h + b
        h = phi(z)
    return z


def _by_definition(weights, biases, x, act, lb, lw, h=1e-4):
    """sum_{mu,nu} lambda_mu lambda_nu dz_i0/dmu [d2z_i1/dmu dnu dz_i2/dnu + (i1 <-> i2)]."""
    phi = act.numeric(0)
    L, n = weights.shape[0], weights.shape[1]
    theta = np.concatenate([np.concatenate([weights[m].ravel(), biases[m]]) for m in range(L)])
    lam = np.concatenate([np.r_[np.full(n * n, lw / n), np.full(n, lb)] for _ in range(L)])
    shapes = [(n, n)] * L
    P = theta.size
    eye = np.eye(P)

    def f(t):
        return _outputs(t, shapes, x, phi)

    J = np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in eye]).T  # (n, P)
    Hs = np.zeros((n, P, P))
    for a in range(P):
        for b in range(a, P):
            ea, eb = h * eye[a], h * eye[b]
            d = (f(theta + ea + eb) - f(theta + ea - eb) - f(theta - ea + eb)
                 + f(theta - ea - eb)) / (4 * h * h)  # fmt: skip
            Hs[:, a, b] = Hs[:, b, a] = d
    A = np.einsum("am,m,imn,n,bn->aib", J, lam, Hs, lam, J)  # z_a,mu z_i,mu nu z_b,nu
    return A + np.swapaxes(A, 1, 2)


@pytest.mark.parametrize("act", ["tanh", "gelu"])
def test_finite_difference_dntk_matches_the_definition(act):
    rng = np.random.default_rng(5)
    n, L = 2, 2
    W = rng.standard_normal((L, n, n)) / np.sqrt(n)
    b = 0.3 * rng.standard_normal((L, n))
    x = rng.standard_normal(n)
    a = get_activation(act)
    out = network_dntk(W[None], b[None], x[None], a, lambda_b=0.7, lambda_W=1.3)
    ref = _by_definition(W, b, x, a, 0.7, 1.3)
    assert np.max(np.abs(out["dntk"][0, -1] - ref)) < 1e-5 * max(1.0, np.max(np.abs(ref)))
    assert np.abs(out["dntk"][0, -1]).max() > 1e-2  # a non-trivial case
    # symmetric in (i1, i2), and the step does not matter
    assert np.allclose(out["dntk"], np.swapaxes(out["dntk"], -1, -2), atol=1e-8)
    half = network_dntk(W[None], b[None], x[None], a, lambda_b=0.7, lambda_W=1.3, eps=5e-5)
    assert np.allclose(out["dntk"], half["dntk"], atol=1e-7)


def test_two_layer_linear_closed_form():
    # z(2) = W2 z(1) + b2, H_ij(2) = d_ij [lambda_b + lambda_W |z(1)|^2/n] + H(1) (W2 W2^T)_ij,
    # H(1) = lambda_b + lambda_W |x|^2/n, so, exactly for every network,
    # dH_{i0 i1 i2}(2) = (lambda_W H(1)/n) [d_i0i1 y_i2 + d_i0i2 y_i1 + 2 d_i1i2 y_i0], y = W2 z(1)
    rng = np.random.default_rng(2)
    n, lb, lw = 5, 0.4, 1.7
    W = rng.standard_normal((1, 2, n, n)) / np.sqrt(n)
    b = rng.standard_normal((1, 2, n))
    x = rng.standard_normal((1, n))
    out = network_dntk(W, b, x, get_activation("linear"), lambda_b=lb, lambda_W=lw)
    z1 = W[0, 0] @ x[0] + b[0, 0]
    y = W[0, 1] @ z1
    H1 = lb + lw * x[0] @ x[0] / n
    d = np.eye(n)
    ref = (lw * H1 / n) * (np.einsum("ab,c->abc", d, y) + np.einsum("ac,b->abc", d, y)
                           + 2 * np.einsum("bc,a->abc", d, y))  # fmt: skip
    assert np.allclose(out["dntk"][0, 1], ref, atol=1e-8)
    assert np.all(out["dntk"][0, 0] == 0)


def test_errors():
    with pytest.raises(InvalidParameter):
        empirical_dntk(Network("recurrent", "tanh", 1.5, 0.1, width=4, depth=2), 10)
    with pytest.raises(InvalidParameter):
        empirical_dntk(Network("feedforward", "tanh", 1.5, 0.1, width=1, depth=2), 10)
    with pytest.raises(InvalidParameter):
        empirical_dntk(Network("feedforward", "tanh", 1.5, 0.1, width=4, depth=2), 1)


def test_relu_step_never_straddles_a_kink(monkeypatch):
    # a layer-1 unit 1e-9 above ReLU's kink: the default step moves it across, which would
    # difference two linear pieces and give a spike of size 1/eps; the retried step stays
    # in the piece and equals the dNTK of the same network with that unit further up
    import nnqft.derive.montecarlo.dntk as dntk_module

    rng = np.random.default_rng(3)
    n = 3
    W = rng.standard_normal((2, n, n)) / np.sqrt(n)
    x = rng.standard_normal(n)
    relu = get_activation("relu")

    def at(z0):
        b = np.zeros((2, n))
        b[0, 0] = z0 - W[0, 0] @ x  # z_0(1) = z0
        b[0, 1:] = 1.0 - W[0, 1:] @ x  # the others well above the kink
        return network_dntk(W[None], b[None], x[None], relu, eps=1e-3)["dntk"][0, 1]

    near, far = at(1e-9), at(1e-2)
    assert np.abs(near).max() > 0.1
    # moving z_0(1) within the piece changes dH by O(1e-2): the piece is linear in z_0(1)
    assert np.allclose(near, far, atol=0.05 * np.abs(far).max())
    monkeypatch.setattr(dntk_module, "_KINK_RETRIES", 0)
    with pytest.raises(InvalidParameter, match="kink"):
        at(1e-9)


def _jacobians(weights, biases, x, act, lw, lb, h=1e-4):
    """(J, Hs, lam) of one input by finite differences of the forward pass alone."""
    phi = act.numeric(0)
    L, n = weights.shape[0], weights.shape[1]
    theta = np.concatenate([np.concatenate([weights[m].ravel(), biases[m]]) for m in range(L)])
    lam = np.concatenate([np.r_[np.full(n * n, lw / n), np.full(n, lb)] for _ in range(L)])
    shapes = [(n, n)] * L
    eye = np.eye(theta.size)

    def f(t):
        return _outputs(t, shapes, x, phi)

    J = np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in eye]).T
    Hs = np.zeros((n, theta.size, theta.size))
    for a in range(theta.size):
        for b in range(a, theta.size):
            ea, eb = h * eye[a], h * eye[b]
            d = (f(theta + ea + eb) - f(theta + ea - eb) - f(theta - ea + eb)
                 + f(theta - ea - eb)) / (4 * h * h)  # fmt: skip
            Hs[:, a, b] = Hs[:, b, a] = d
    return J, Hs, lam


def test_two_input_dntk_matches_the_definition():
    # dH_{i0 i1 i2; a0 a1 a2} = sum lambda_mu lambda_nu z_i0;a0,mu [z_i1;a1,mu nu z_i2;a2,nu
    # + z_i1;a1,nu z_i2;a2,mu nu]; and each input alone is the one-input network_dntk
    rng = np.random.default_rng(7)
    n, L, lb, lw = 2, 2, 0.7, 1.3
    W = rng.standard_normal((L, n, n)) / np.sqrt(n)
    b = 0.3 * rng.standard_normal((L, n))
    xs = rng.standard_normal((2, n))
    act = get_activation("tanh")
    out = network_dntk(W[None], b[None], xs[None], act, lambda_b=lb, lambda_W=lw)
    dH = out["dntk"][0, -1]  # [a0, i0, a1, a2, i1, i2]
    J, Hs, lam = zip(*(_jacobians(W, b, x, act, lw, lb) for x in xs))
    lam = lam[0]
    for a0, a1, a2 in np.ndindex(2, 2, 2):
        ref = np.einsum("am,m,imn,n,bn->aib", J[a0], lam, Hs[a1], lam, J[a2])
        ref = ref + np.einsum("am,m,bmn,n,in->aib", J[a0], lam, Hs[a2], lam, J[a1])
        got = dH[a0, :, a1, a2]
        assert np.max(np.abs(got - ref)) < 1e-5 * max(1.0, np.abs(ref).max()), (a0, a1, a2)
    assert np.abs(dH[0, :, 0, 1]).max() > 1e-2  # a mixed entry, non-trivial
    for a in range(2):
        single = network_dntk(W[None], b[None], xs[None, a], act, lambda_b=lb, lambda_W=lw)
        assert np.allclose(single["dntk"][0], out["dntk"][0, :, a, :, a, a], atol=1e-10)
        assert np.allclose(single["z"][0], out["z"][0, :, a])
