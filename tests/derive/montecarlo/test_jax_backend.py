"""The JAX sampler against the numpy full-matrix sampler and exact means (JAX optional)."""

import numpy as np
import pytest

from nnqft.derive.montecarlo import jax_backend
from nnqft.derive.montecarlo.chunks import MissingDependency
from nnqft.derive.montecarlo.simulate import simulate
from nnqft.rules.network import Network


def test_require_jax_says_what_to_install_when_absent():
    if jax_backend.jax_available():
        assert jax_backend.require_jax().config.read("jax_enable_x64")
    else:
        with pytest.raises(MissingDependency, match="pip install 'nnqft\\[jax\\]'"):
            jax_backend.require_jax()


def _within(a, b, sa, sb, k=5.0):
    """|a - b| within k combined standard errors."""
    return np.all(np.abs(np.asarray(a) - np.asarray(b)) <= k * np.hypot(sa, sb))


def test_linear_means_are_exact_and_match_numpy():
    """For linear phi, E[Q(t)] = sigma_w2 E[Q(t-1)] + sigma_b2 at any width."""
    pytest.importorskip("jax")
    net = Network("feedforward", "linear", sigma_w2=1.3, sigma_b2=0.2, width=16, depth=3)
    jx = simulate(net, 400, seed=3, sampler="full", backend="jax")
    npy = simulate(net, 400, seed=3, sampler="full")
    exact = [1.3 * net.q0 + 0.2]
    for _ in range(2):
        exact.append(1.3 * exact[-1] + 0.2)
    m, s = jx.column("mean"), jx.column("mean_stderr")
    assert _within(m, exact, s, 0.0)
    assert _within(m, npy.column("mean"), s, npy.column("mean_stderr"))
    assert not np.array_equal(m, npy.column("mean"))  # other random streams, same law


def test_tanh_two_inputs_match_numpy_within_errors():
    pytest.importorskip("jax")
    net = Network("recurrent", "tanh", 2.0, 0.1, width=24, depth=4, bias="fresh")
    jx = simulate(net, 300, seed=5, inputs=2, c0=0.6, backend="jax")
    npy = simulate(net, 300, seed=5, inputs=2, c0=0.6, sampler="full")
    for name in ("mean", "log_mean", "correlation", "q12"):
        assert _within(
            jx.column(name),
            npy.column(name),
            jx.column(f"{name}_stderr"),
            npy.column(f"{name}_stderr"),
        ), name
    again = simulate(net, 300, seed=5, inputs=2, c0=0.6, backend="jax")
    np.testing.assert_array_equal(again.column("mean"), jx.column("mean"))  # reproducible


def test_full_observables_shapes():
    pytest.importorskip("jax")
    net = Network("feedforward", "tanh", 1.0, 0.0, width=8, depth=3)
    obs = jax_backend.full_observables(net, 5, np.random.SeedSequence(2), 0.5)
    assert sorted(obs) == ["Q", "Q12", "c", "lnQ"]
    assert all(v.shape == (5, 3) for v in obs.values())
    assert np.all(np.abs(obs["c"]) <= 1 + 1e-12)
    np.testing.assert_allclose(obs["lnQ"], np.log(obs["Q"]))


def test_erf_runs_under_jax():
    pytest.importorskip("jax")
    net = Network("feedforward", "erf", 1.0, 0.0, width=8, depth=2)
    obs = jax_backend.full_observables(net, 4, np.random.SeedSequence(2), None)
    assert obs["Q"].shape == (4, 2)
