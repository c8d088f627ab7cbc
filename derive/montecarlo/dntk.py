"""The empirical dNTK of real random networks, without autodiff (docs/conventions.md §10).

For one network the dNTK of layer l, dH_{i0 i1 i2}(l) = sum_mu lambda_mu dz_{i0}/dtheta_mu
dH_{i1 i2}/dtheta_mu, is the directional derivative of the NTK matrix H(l; theta) along
v = lambda * grad_theta z_{i0}(l).  Here:

- the gradient comes from explicit backpropagation, g(l, m) = dz(l)/dz(m) (as in
  :mod:`nnqft.derive.montecarlo.ntk`): v_W(m) = (lambda_W/n) g_{i0}(l, m) phi(z(m-1))^T,
  v_b(m) = lambda_b g_{i0}(l, m);
- the derivative is a central finite difference, [H(theta + eps v) - H(theta - eps v)] /
  (2 eps), of :func:`~nnqft.derive.montecarlo.ntk.network_ntk` (error O(eps^2), checked in
  the tests against a closed form and against second derivatives taken apart).  For a
  kinked phi (ReLU) the few networks whose step moves a unit across a kink are redone
  with a smaller step, so the difference never straddles two pieces.

:func:`empirical_dntk` draws networks as docs/conventions.md §1 (one input of size q0,
input dimension n) and returns, per layer, n times the mean over networks of
dH_{i0 i1 i1} z_{i0} (i0 != i1; -> P) and of dH_{i0 i0 i2} z_{i2} (i0 != i2; -> Q), each
averaged over the ordered pairs of k output neurons, with standard errors across networks.

>>> from nnqft.rules.network import Network
>>> net = Network("feedforward", "linear", 1.0, 0.0, width=8, depth=2)
>>> rows = empirical_dntk(net, 200, lambda_b=0.0, seed=1)
>>> rows[0]["P"], rows[0]["Q"]                  # layer 1: the NTK is constant
(0.0, 0.0)
>>> abs(rows[1]["Q"] - 1.0) < 4 * rows[1]["Q_stderr"]         # Q(2) = 1 at every width
True
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidParameter
from ...rules.network import Network
from .chunks import chunk_seeds, chunk_sizes, positive_int
from .ntk import _ntk, _stats, draw_parameters
from .simulate import numeric_network

__all__ = ["network_dntk", "empirical_dntk"]

#: about this many float64 numbers per chunk of networks
_CHUNK_FLOATS = 2_000_000


def _forward(weights, biases, x, phi, dphi):
    """Pre-activations z(m), phi(z(m)) (m = 0: the input) and phi'(z(m)), each (B, P, n) for
    P inputs x (B, P, n)."""
    zs, hs, ds = [], [x], []
    h = x
    for m in range(weights.shape[1]):
        z = np.einsum("bij,bpj->bpi", weights[:, m], h) + biases[:, m, None, :]
        h = np.broadcast_to(phi(z), z.shape)
        zs.append(z)
        hs.append(h)
        ds.append(np.broadcast_to(dphi(z), z.shape))
    return zs, hs, ds


def network_dntk(
    weights,
    biases,
    x,
    activation,
    *,
    lambda_b: float = 1.0,
    lambda_W: float = 1.0,
    outputs: int | None = None,
    eps: float = 1e-4,
):
    """The dNTK and the pre-activations of every layer of given feedforward networks.

    Parameters
    ----------
    weights, biases : array
        (B, L, n, n) and (B, L, n): layer m's W and b at index m-1 (input dimension n).
    x : array
        One input per network, (B, n), or P inputs, (B, P, n).
    activation : Activation
        phi, with ``numeric(0)`` and ``numeric(1)``.
    lambda_b, lambda_W : float
        The learning-rate factors.
    outputs : int, optional
        The first k output neurons (default: all n).
    eps : float
        The finite-difference step along v = lambda * grad z_{i0}.

    Returns
    -------
    dict
        ``dntk``: (B, L, k, k, k), dH_{i0 i1 i2}(l); ``z``: (B, L, n), z(l).  With P
        inputs ``dntk`` is (B, L, P, k, P, P, k, k), dH_{i0 i1 i2; a0 a1 a2}(l) at
        [b, l-1, a0, i0, a1, a2, i1, i2] (the step along lambda * grad z_{i0;a0}, the NTK
        entry H_{i1 i2; a1 a2} differenced), and ``z`` (B, L, P, n).

    Examples
    --------
    >>> from nnqft.rules.activations import get_activation
    >>> W = np.eye(2)[None, None].repeat(2, axis=1)      # two layers of identity weights
    >>> out = network_dntk(W, np.zeros((1, 2, 2)), np.array([[1.0, 0.0]]),
    ...                    get_activation("linear"), lambda_b=0.0)
    >>> np.round(out["dntk"][0, 1, 0], 6).tolist()  # (H1/n)(d_0i1 z_i2 + d_0i2 z_i1 + 2 d_i1i2 z_0)
    [[1.0, 0.0], [0.0, 0.5]]
    """
    weights, biases, x = (np.asarray(a, dtype=float) for a in (weights, biases, x))
    B, L, n, _ = weights.shape
    k = n if outputs is None else min(int(outputs), n)
    if not eps > 0:
        raise InvalidParameter(f"eps must be a positive step, got {eps!r}")
    one = x.ndim == 2
    X = x[:, None, :] if one else x  # (B, P, n)
    P = X.shape[1]
    phi, dphi = activation.numeric(0), activation.numeric(1)
    zs, hs, ds = _forward(weights, biases, X, phi, dphi)
    out = np.zeros((B, L, P, k, P, P, k, k))  # [a0, i0, a1, a2, i1, i2]
    for top in range(2, L + 1):  # layer 1's NTK is constant: its dNTK is 0
        # g[m] = dz_{i0;a}(top)/dz(m;a) for the k outputs i0, (B, P, k, n)
        G = np.zeros((B, P, k, n))
        G[:, :, np.arange(k), np.arange(k)] = 1.0
        g = {top: G}
        for m in range(top, 1, -1):
            G = np.matmul(G, weights[:, m - 1, None]) * ds[m - 2][:, :, None, :]
            g[m - 1] = G
        for a0 in range(P):
            for i0 in range(k):
                vW = np.zeros_like(weights)
                vb = np.zeros_like(biases)
                for m in range(1, top + 1):
                    vW[:, m - 1] = ((lambda_W / n) * g[m][:, a0, i0, :, None]
                                    * hs[m - 1][:, a0, None, :])  # fmt: skip
                    vb[:, m - 1] = lambda_b * g[m][:, a0, i0]
                args = (weights[:, :top], biases[:, :top], vW[:, :top], vb[:, :top], X)
                out[:, top - 1, a0, i0] = _central_difference(*args, activation, lambda_b,
                                                              lambda_W, k, eps)  # fmt: skip
    z = np.stack(zs, axis=1)  # (B, L, P, n)
    if one:
        return {"dntk": out[:, :, 0, :, 0, 0], "z": z[:, :, 0]}
    return {"dntk": out, "z": z}


#: smaller steps tried for the networks whose step moves a unit across a kink
_KINK_RETRIES = 3


def _central_difference(weights, biases, vW, vb, x, activation, lambda_b, lambda_W, k, eps):
    """[H(theta + eps v) - H(theta - eps v)] / (2 eps) of the top layer, (B, P, P, k, k) for
    the inputs x (B, P, n).

    A kinked phi (ReLU) makes H piecewise smooth in theta: a step that moves a unit across
    a kink would difference two pieces and give a spike of size 1/eps.  Such networks are
    detected (a pre-activation on different sides of a kink at the two ends) and redone
    with steps 1000 times smaller; within one piece the difference is the derivative."""
    top = weights.shape[1]
    kinks = np.asarray(activation.kink_points, dtype=float)
    phi, dphi = activation.numeric(0), activation.numeric(1)
    P = x.shape[1]
    out = np.zeros((weights.shape[0], P, P, k, k))
    todo = np.arange(weights.shape[0])
    for _ in range(_KINK_RETRIES + 1):
        W, b, dW, db = weights[todo], biases[todo], vW[todo], vb[todo]
        ends, sides = [], []
        for s in (1.0, -1.0):
            Ws, bs = W + s * eps * dW, b + s * eps * db
            res = _ntk(Ws, bs, x[todo], activation, top, False, False, lambda_b, lambda_W, k)
            ends.append(res["ntk"][:, top - 1])
            if kinks.size:
                zs = _forward(Ws, bs, x[todo], phi, dphi)[0]
                sides.append(np.stack([z[..., None] > kinks for z in zs], axis=1))
        out[todo] = (ends[0] - ends[1]) / (2 * eps)
        if not kinks.size:
            return out
        crossed = (sides[0] != sides[1]).reshape(len(todo), -1).any(axis=1)
        if not crossed.any():
            return out
        todo, eps = todo[crossed], eps * 1e-3
    raise InvalidParameter(
        "a pre-activation sits on a kink of phi in a sampled network (the dNTK is undefined "
        "there); use another seed"
    )


def empirical_dntk(
    net: Network,
    samples: int,
    *,
    c0=None,
    lambda_b: float = 1.0,
    lambda_W: float = 1.0,
    outputs: int = 4,
    seed: int = 1,
) -> list[dict]:
    """n E[dH z] of ``samples`` random feedforward networks in PDLT's P and Q patterns.

    Parameters
    ----------
    net : Network
        Feedforward, numeric sigma_w2, sigma_b2, q0, width n and depth.
    samples : int
        Number of independent networks (>= 2).
    c0 : float, optional
        Two inputs of this correlation (docs/conventions.md §1); default one input.
    lambda_b, lambda_W : float, optional
        The learning-rate factors.
    outputs : int, optional
        Output neurons k (min(outputs, n), at least 2) whose pairs are averaged.
    seed : int, optional
        The run's seed (chunks seeded by ``numpy.random.SeedSequence``).

    Returns
    -------
    list of dict
        Per layer ``layer``, ``P``, ``P_stderr`` (n times the mean of dH_{i0 i1 i1} z_{i0},
        i0 != i1) and ``Q``, ``Q_stderr`` (of dH_{i0 i0 i2} z_{i2}, i0 != i2), with
        n E[dH z] = P or Q + O(1/n).  With ``c0`` each is a (2, 2, 2, 2) array over the
        inputs [a0, a1, a2, a3]: n E[dH_{i0 i1 i1; a0 a1 a2} z_{i0;a3}] -> P_{a0a1a2a3} and
        n E[dH_{i0 i0 i2; a0 a1 a2} z_{i2;a3}] -> Q_{a0a1a2a3} (averaged with its mirror
        dH_{i0 i2 i0; a0 a2 a1}).

    Examples
    --------
    >>> net = Network("feedforward", "tanh", 1.5, 0.1, width=4, depth=2)
    >>> [sorted(r) for r in empirical_dntk(net, 4)][0]
    ['P', 'P_stderr', 'Q', 'Q_stderr', 'layer']
    >>> empirical_dntk(net, 4, c0=0.5)[1]["P"].shape
    (2, 2, 2, 2)
    """
    from ..ntk.kernel import check_correlation, learning_rates

    numeric_network(net)
    if net.arch != "feedforward":
        raise InvalidParameter("the empirical dNTK is computed for feedforward nets only")
    samples = positive_int("samples", samples)
    if samples < 2:
        raise InvalidParameter(f"samples must be at least 2 (for standard errors), got {samples}")
    lb, lw = learning_rates(lambda_b, lambda_W)
    n, L = int(net.width), int(net.depth)
    k = min(positive_int("outputs", outputs), n)
    if k < 2:
        raise InvalidParameter("the dNTK's index patterns need two output neurons (width >= 2)")
    inputs = 1 if c0 is None else 2
    if c0 is not None:
        c0 = check_correlation(c0)
    per_net = inputs**3 * (n * n * L * 4 + L * n * k * 4)
    sizes = chunk_sizes(samples, max(1, _CHUNK_FLOATS // per_net))
    off = ~np.eye(k, dtype=bool)
    Ps, Qs = [], []
    for size, seq in zip(sizes, chunk_seeds(seed, len(sizes))):
        rng = np.random.default_rng(seq)
        weights, biases, x = draw_parameters(net, size, rng, inputs, c0)
        with np.errstate(over="ignore", invalid="ignore"):
            res = network_dntk(weights, biases, x[:, 0] if inputs == 1 else x, net.activation,
                               lambda_b=lb, lambda_W=lw, outputs=k)  # fmt: skip
        if inputs == 1:
            dH, z = res["dntk"], res["z"][:, :, :k]
            # P: dH[i0, i1, i1] z[i0];  Q: dH[i0, i0, i2] z[i2] and its mirror dH[i0, i2, i0]
            p = np.einsum("blijj->blij", dH) * z[:, :, :, None]  # (B, L, i0, i1)
            q = (np.einsum("bliij->blij", dH) + np.einsum("bliji->blij", dH)) / 2
            q = q * z[:, :, None, :]  # (B, L, i0, i2)
        else:
            # dH at [x, l, a0, i0, a1, a2, i1, i2] (x: the network), z at [x, l, a3, i]
            dH, z = res["dntk"], res["z"][..., :k]
            p = np.einsum("xlaibcjj,xldi->xlabcdij", dH, z)  # (B, L, a0..a3, i0, i1)
            q = (np.einsum("xlaibcij->xlabcij", dH)
                 + np.einsum("xlaicbji->xlabcij", dH)) / 2  # fmt: skip
            q = np.einsum("xlabcij,xldj->xlabcdij", q, z)  # (B, L, a0..a3, i0, i2)
        Ps.append(p[..., off].mean(axis=-1))
        Qs.append(q[..., off].mean(axis=-1))
    Ps, Qs = np.concatenate(Ps), np.concatenate(Qs)
    if not (np.isfinite(Ps).all() and np.isfinite(Qs).all()):
        raise InvalidParameter("the dNTK of the sampled networks overflows; use a smaller depth")
    (pm, pe), (qm, qe) = _stats(n * Ps), _stats(n * Qs)
    if inputs == 2:
        return [
            {"layer": layer + 1, "P": pm[layer], "P_stderr": pe[layer], "Q": qm[layer],
             "Q_stderr": qe[layer]}
            for layer in range(L)
        ]  # fmt: skip
    return [
        {"layer": layer + 1, "P": float(pm[layer]), "P_stderr": float(pe[layer]),
         "Q": float(qm[layer]), "Q_stderr": float(qe[layer])}
        for layer in range(L)
    ]  # fmt: skip
