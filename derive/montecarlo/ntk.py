"""The empirical neural tangent kernel of real random networks, by explicit backpropagation.

For one network and inputs x_a the NTK of layer l is H_ij(l; a, b) = sum_theta
lambda_theta dz_i(l; x_a)/dtheta dz_j(l; x_b)/dtheta = (J Lambda J^T)_ij: J the Jacobian
of the outputs z(l) with respect to every weight and bias of layers 1..l, Lambda the
learning-rate factors (lambda_b for biases, lambda_W/n for weights; docs/conventions.md
§10).  It is computed here without autodiff:

- forward pass: z(m) = W(m) phi(z(m-1)) + b(m), phi(z(0)) = x, storing phi(z(m)) and
  D(m) = diag phi'(z(m));
- backward pass from layer l: g(l, l) = 1 (the rows of the chosen output neurons),
  g(l, m-1) = g(l, m) W(m) D(m-1), the gradient dz(l)/dz(m);
- the Jacobian of a layer's parameters is an outer product, dz_i(l)/dW_ab(m) =
  g_ia(l, m) phi_b(z(m-1)) and dz_i(l)/db_a(m) = g_ia(l, m), so its block of J Lambda J^T
  is [lambda_b + lambda_W phi(z(m-1); x_a).phi(z(m-1); x_b)/n] (g_a(l, m) g_b(l, m)^T).

Recurrent nets (one W; bias shared or fresh) backpropagate through time with the same W
and add the steps' gradients before contracting: H(l) = sum_{t,s} g(l,t) g(l,s)^T
[lambda_W Phi(t-1, s-1) + lambda_b B(t, s)], Phi(t, s) = phi(z(t)).phi(z(s))/n, B = 1
(shared) or d_ts (fresh); the terms t != s are returned apart (``cross_time``).

:func:`network_ntk` does this for given parameters (checked against finite differences in
the tests); :func:`empirical_ntk` draws networks as docs/conventions.md §1 (W ~ N(0,
sigma_w2/n), b ~ N(0, sigma_b2), inputs of size q0 with isotropic directions, input
dimension n) and returns, per layer, the mean over networks of (1/k) sum_i H_ii over k
output neurons with its standard error, the mean of the off-diagonal H_ij, and the
variance across networks of one diagonal entry.

>>> from nnqft.rules.network import Network
>>> net = Network("feedforward", "linear", sigma_w2=1.0, sigma_b2=0.0, width=16, depth=2)
>>> rows = empirical_ntk(net, 200, seed=1)
>>> rows[0]["ntk"]                     # layer 1: lambda_b + lambda_W q0 for every network
2.0
>>> abs(rows[1]["ntk"] - 4.0) < 4 * rows[1]["ntk_stderr"]      # infinite width: 4
True
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import InvalidParameter
from ...rules.network import Network
from .chunks import chunk_seeds, chunk_sizes, isotropic_inputs, positive_int
from .simulate import numeric_network

__all__ = ["network_ntk", "empirical_ntk", "draw_parameters"]

#: about this many float64 weights per chunk of networks
_CHUNK_FLOATS = 4_000_000


def _forward(weights, biases, x, phi, dphi, depth, recurrent, shared):
    """phi(z(m)) for m = 0..depth (phi(z(0)) = x) and phi'(z(m)) for m = 1..depth, each
    (B, P, n)."""
    hs, ds = [x], []
    h = x
    for m in range(depth):
        W = weights if recurrent else weights[:, m]
        b = biases if shared else biases[:, m]
        z = np.matmul(h, np.swapaxes(W, -1, -2)) + b[:, None, :]
        h = phi(z)
        hs.append(np.broadcast_to(h, z.shape))
        ds.append(np.broadcast_to(dphi(z), z.shape))
    return hs, ds


def network_ntk(
    weights,
    biases,
    x,
    activation,
    *,
    arch: str = "feedforward",
    bias: str | None = None,
    depth: int | None = None,
    lambda_b: float = 1.0,
    lambda_W: float = 1.0,
    outputs: int | None = None,
):
    """The NTK of every layer of given networks, by backpropagation (module docstring).

    Parameters
    ----------
    weights : array
        (B, L, n, n) for feedforward nets (layer m's W at index m-1; the input dimension is
        n), (B, n, n) for recurrent ones.
    biases : array
        (B, L, n) for feedforward nets and fresh recurrent biases, (B, n) for a shared one.
    x : array
        The inputs, (B, P, n).
    activation : Activation
        phi, with ``numeric(0)`` and ``numeric(1)``.
    arch, bias : str
        ``'feedforward'``, or ``'recurrent'`` with bias ``'shared'`` or ``'fresh'``.
    depth : int, optional
        The number of steps of a recurrent net with a shared bias (otherwise read off the
        arrays).
    lambda_b, lambda_W : float
        The learning-rate factors.
    outputs : int, optional
        The first k output neurons whose rows of H are computed (default: all n).

    Returns
    -------
    dict
        ``ntk``: (B, L, P, P, k, k), H_ij(l; a, b); ``cross_time``: the terms t != s of
        recurrent nets (same shape), None for feedforward ones.

    Examples
    --------
    >>> from nnqft.rules.activations import get_activation
    >>> W = np.eye(2)[None, None].repeat(2, axis=1)    # two layers of identity weights
    >>> out = network_ntk(W, np.zeros((1, 2, 2)), np.ones((1, 1, 2)), get_activation("linear"))
    >>> out["ntk"][0, 1, 0, 0]        # (1 + 1) + (1 + 1): two layers of bias and weight
    array([[4., 0.],
           [0., 4.]])
    """
    weights, biases, x = (np.asarray(a, dtype=float) for a in (weights, biases, x))
    recurrent = arch == "recurrent"
    shared = recurrent and bias == "shared"
    B, P, n = x.shape
    if not shared:
        depth = weights.shape[1] if not recurrent else biases.shape[1]
    elif depth is None:
        raise InvalidParameter("a recurrent net with a shared bias needs its depth (depth=)")
    return _ntk(weights, biases, x, activation, depth, recurrent, shared,
                lambda_b, lambda_W, outputs)  # fmt: skip


def _ntk(weights, biases, x, activation, depth, recurrent, shared, lb, lw, outputs):
    B, P, n = x.shape
    k = n if outputs is None else min(int(outputs), n)
    phi, dphi = activation.numeric(0), activation.numeric(1)
    hs, ds = _forward(weights, biases, x, phi, dphi, depth, recurrent, shared)

    # forward Gram matrices Phi(t, s)_{ab} = phi(z(t); x_a).phi(z(s); x_b)/n
    def gram(t, s):
        return np.matmul(hs[t], np.swapaxes(hs[s], -1, -2)) / n  # (B, P, P)

    out = np.zeros((B, depth, P, P, k, k))
    cross = np.zeros_like(out) if recurrent else None
    start = np.zeros((B, P, k, n))
    start[:, :, np.arange(k), np.arange(k)] = 1.0
    for top in range(1, depth + 1):
        g = {top: start}  # g[m] = dz(top)/dz(m), rows: the k outputs
        G = start
        for m in range(top, 1, -1):
            W = weights if recurrent else weights[:, m - 1]
            G = np.matmul(G.reshape(B, P * k, n), W).reshape(B, P, k, n)
            G = G * ds[m - 2][:, :, None, :]
            g[m - 1] = G
        if not recurrent:
            for m in range(1, top + 1):
                coef = lb + lw * gram(m - 1, m - 1)
                block = np.einsum("bpin,bqjn->bpqij", g[m], g[m])
                out[:, top - 1] += coef[..., None, None] * block
            continue
        for t in range(1, top + 1):
            for s in range(1, top + 1):
                coef = lw * gram(t - 1, s - 1) + (lb if (shared or t == s) else 0.0)
                block = coef[..., None, None] * np.einsum("bpin,bqjn->bpqij", g[t], g[s])
                out[:, top - 1] += block
                if t != s:
                    cross[:, top - 1] += block
    return {"ntk": out, "cross_time": cross}


def draw_parameters(net: Network, batch: int, rng: np.random.Generator, inputs: int = 1, c0=None):
    """(weights, biases, x) of ``batch`` random networks as docs/conventions.md §1.

    >>> net = Network("recurrent", "tanh", 1.5, 0.1, width=3, depth=4, bias="fresh")
    >>> [a.shape for a in draw_parameters(net, 2, np.random.default_rng(0))]
    [(2, 3, 3), (2, 4, 3), (2, 1, 3)]
    """
    n, L = int(net.width), int(net.depth)
    sw, sb = math.sqrt(float(net.sigma_w2) / n), math.sqrt(float(net.sigma_b2))
    recurrent = net.arch == "recurrent"
    shared = recurrent and net.bias == "shared"
    wshape = (batch, n, n) if recurrent else (batch, L, n, n)
    bshape = (batch, n) if shared else (batch, L, n)
    weights = sw * rng.standard_normal(wshape)
    biases = sb * rng.standard_normal(bshape)
    x = isotropic_inputs(rng, batch, n, float(net.q0), c0 if inputs == 2 else None)
    return weights, biases, np.swapaxes(x, 1, 2)


def _stats(values: np.ndarray):
    """Mean and standard error over the first axis."""
    m = values.shape[0]
    mean = values.mean(axis=0)
    err = values.std(axis=0, ddof=1) / math.sqrt(m) if m > 1 else np.full_like(mean, np.nan)
    return mean, err


def _variance(values: np.ndarray):
    """The variance over the first axis and its standard error (fourth central moment)."""
    m = values.shape[0]
    d = values - values.mean(axis=0)
    var = (d**2).sum(axis=0) / (m - 1)
    mu4 = (d**4).mean(axis=0)
    err = np.sqrt(np.maximum(mu4 - var**2, 0.0) / m)
    return var, err


def _covariance(x: np.ndarray, y: np.ndarray):
    """The covariance over the first axis and its standard error (of the centred products)."""
    m = x.shape[0]
    prod = (x - x.mean(axis=0)) * (y - y.mean(axis=0))
    return prod.sum(axis=0) / (m - 1), prod.std(axis=0, ddof=1) / math.sqrt(m)


def _entry_moments(entries: np.ndarray):
    """Var H_ii;ab and Cov(H_ii;11, H_ii;22) across networks, averaged over the k output
    neurons i, with standard errors from the spread of the per-network terms.

    ``entries``: (M, L, P, P, k), H_ii;ab of each network.  The per-network term
    y_m = (1/k) sum_i (H_ii - mean_i)^2 M/(M - 1) has mean the variance; networks are
    independent, so its standard error is std(y)/sqrt(M) (the k neurons of one network are
    correlated, Cov(H_ii, H_jj) = A/n, which this keeps).
    """
    m = entries.shape[0]
    d = entries - entries.mean(axis=0)
    y = (d**2).mean(axis=-1) * m / (m - 1)  # (M, L, P, P)
    var, err = y.mean(axis=0), y.std(axis=0, ddof=1) / math.sqrt(m)
    if entries.shape[2] < 2:
        return var, err, None, None
    c = (d[:, :, 0, 0] * d[:, :, 1, 1]).mean(axis=-1) * m / (m - 1)  # (M, L)
    return var, err, c.mean(axis=0), c.std(axis=0, ddof=1) / math.sqrt(m)


def empirical_ntk(
    net: Network,
    samples: int,
    *,
    c0=None,
    lambda_b: float = 1.0,
    lambda_W: float = 1.0,
    outputs: int = 8,
    seed: int = 1,
) -> list[dict]:
    """Statistics of the NTK of ``samples`` random networks, per layer, with standard errors.

    Parameters
    ----------
    net : Network
        Numeric sigma_w2, sigma_b2, q0, width n and depth; feedforward or recurrent.
    samples : int
        Number of independent networks (>= 2).
    c0 : float, optional
        Two inputs of correlation c0 (the 2x2 Gram matrices); one input when None.
    lambda_b, lambda_W : float, optional
        The learning-rate factors.
    outputs : int, optional
        Output neurons whose rows of H are computed (min(outputs, n)).
    seed : int, optional
        The run's seed (chunks seeded by ``numpy.random.SeedSequence``).

    Returns
    -------
    list of dict
        Per layer ``layer``; ``ntk``, ``ntk_stderr``: the mean over networks of (1/k)
        sum_i H_ii (a number, or the 2x2 Gram matrix for two inputs);
        ``offdiagonal``, ``offdiagonal_stderr``: the mean of H_ij, i != j (0 at every width
        by symmetry; None for k = 1); ``variance``, ``variance_stderr``: the variance
        across networks of H_11 (input 1); ``offdiagonal_variance``: of H_12 (neurons 1, 2,
        input 1) and ``diagonal_covariance``: of H_11 with H_22 (neurons, input 1), None for
        k = 1; ``entry_variance``: the variance across networks of each input entry
        H_ii;ab of one neuron (a number, or 2x2), averaged over the k neurons, and
        ``entry_covariance``: Cov(H_ii;11, H_ii;22) of the two inputs (None for one input),
        each with ``_stderr``; ``cross_time``, ``cross_time_stderr``: the
        t != s part of the diagonal of recurrent nets (None for feedforward).

    Examples
    --------
    >>> net = Network("recurrent", "relu", 2.0, 0.0, width=8, depth=2, bias="shared")
    >>> rows = empirical_ntk(net, 50, seed=2)
    >>> len(rows), rows[0]["cross_time"]          # one step: no cross-time terms
    (2, 0.0)
    """
    from ..ntk.kernel import check_correlation, learning_rates

    numeric_network(net)
    samples = positive_int("samples", samples)
    if samples < 2:
        raise InvalidParameter(f"samples must be at least 2 (for standard errors), got {samples}")
    outputs = positive_int("outputs", outputs)
    lb, lw = learning_rates(lambda_b, lambda_W)
    inputs = 1 if c0 is None else 2
    if c0 is not None:
        c0 = check_correlation(c0)
        if net.width < 2:
            raise InvalidParameter("two inputs with a chosen correlation need width >= 2")
    n, L = int(net.width), int(net.depth)
    k = min(outputs, n)
    recurrent = net.arch == "recurrent"
    shared = recurrent and net.bias == "shared"
    per_net = n * n * (1 if recurrent else L) + L * inputs * n * (k + 2)
    sizes = chunk_sizes(samples, max(1, _CHUNK_FLOATS // per_net))
    diag, off, first, cross, pairs, entries = [], [], [], [], [], []
    eye = np.eye(k, dtype=bool)
    for size, seq in zip(sizes, chunk_seeds(seed, len(sizes))):
        rng = np.random.default_rng(seq)
        weights, biases, x = draw_parameters(net, size, rng, inputs, c0)
        with np.errstate(over="ignore", invalid="ignore"):
            res = _ntk(weights, biases, x, net.activation, L, recurrent, shared, lb, lw, k)
        H = res["ntk"]
        diag.append(H[..., eye].mean(axis=-1))
        entries.append(H[..., eye])
        if k > 1:
            off.append(H[..., ~eye].mean(axis=-1))
        first.append(H[:, :, 0, 0, 0, 0])
        if k > 1:
            pairs.append(np.stack([H[:, :, 0, 0, 1, 1], H[:, :, 0, 0, 0, 1]], axis=-1))
        if recurrent:
            cross.append(res["cross_time"][..., eye].mean(axis=-1))
    diag = np.concatenate(diag)
    if not np.isfinite(diag).all():
        raise InvalidParameter("the NTK of the sampled networks overflows; use a smaller depth")
    mean, err = _stats(diag)
    omean, oerr = _stats(np.concatenate(off)) if off else (None, None)
    first = np.concatenate(first)
    var, verr = _variance(first)
    if pairs:
        pairs = np.concatenate(pairs)
        ovar, overr = _variance(pairs[..., 1])
        cov, coverr = _covariance(first, pairs[..., 0])
    cmean, cerr = _stats(np.concatenate(cross)) if recurrent else (None, None)
    evar, everr, ecov, ecoverr = _entry_moments(np.concatenate(entries))

    def value(a, layer):
        if a is None:
            return None
        v = a[layer]
        return float(v[0, 0]) if inputs == 1 else v.tolist()

    return [
        {
            "layer": layer + 1,
            "ntk": value(mean, layer),
            "ntk_stderr": value(err, layer),
            "offdiagonal": value(omean, layer),
            "offdiagonal_stderr": value(oerr, layer),
            "variance": float(var[layer]),
            "variance_stderr": float(verr[layer]),
            "offdiagonal_variance": float(ovar[layer]) if k > 1 else None,
            "offdiagonal_variance_stderr": float(overr[layer]) if k > 1 else None,
            "diagonal_covariance": float(cov[layer]) if k > 1 else None,
            "diagonal_covariance_stderr": float(coverr[layer]) if k > 1 else None,
            "entry_variance": value(evar, layer),
            "entry_variance_stderr": value(everr, layer),
            "entry_covariance": float(ecov[layer]) if inputs == 2 else None,
            "entry_covariance_stderr": float(ecoverr[layer]) if inputs == 2 else None,
            "cross_time": value(cmean, layer),
            "cross_time_stderr": value(cerr, layer),
        }
        for layer in range(L)
    ]
