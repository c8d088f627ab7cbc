"""The full-matrix sampler in JAX (optional: ``pip install 'nnqft[jax]'``).

Same networks as the numpy ``'full'`` sampler (docs/conventions.md §1), same chunks and
the same per-chunk seeds (the chunk's ``SeedSequence`` gives the JAX key), but JAX's random
streams differ from numpy's: the numbers agree with numpy within their standard errors,
not bit for bit.  A run with a given seed gives the same numbers on the same device.
Arithmetic is float64; JAX places the arrays on its default device (a GPU where present).

>>> from nnqft.rules.network import Network
>>> net = Network("feedforward", "linear", 2.0, 0.0, width=8, depth=2)
>>> if jax_available():
...     obs = full_observables(net, 4, np.random.SeedSequence(1), None)
...     assert sorted(obs) == ["Q", "lnQ"] and obs["Q"].shape == (4, 2)
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ...rules.network import Network
from .chunks import MissingDependency

__all__ = ["JAX_HINT", "full_observables", "jax_available", "require_jax"]

JAX_HINT = "pip install 'nnqft[jax]'"


def jax_available() -> bool:
    """Whether JAX can be imported here.

    Returns
    -------
    bool

    Examples
    --------
    >>> isinstance(jax_available(), bool)
    True
    """
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def require_jax():
    """The jax module (float64 switched on), or one line saying what to install.

    Returns
    -------
    module
        ``jax``, with ``jax_enable_x64`` on.

    Raises
    ------
    MissingDependency
        Where JAX is not installed (the message says what to install).
    """
    try:
        import jax
    except ImportError:
        raise MissingDependency(f"--backend jax needs JAX: {JAX_HINT}") from None
    jax.config.update("jax_enable_x64", True)
    return jax


@functools.lru_cache(maxsize=32)
def _kernel(expr, arch: str, bias, n: int, depth: int, batch: int, two: bool):
    """A jitted function (key, sw, sb, q0, c0) -> the Gram matrices z_k.z_l/N, shape
    (batch, T, k, k), of ``batch`` networks with activation ``expr`` (a sympy expression of z)."""
    import sympy as sp

    from ...rules.symbols import z

    jax = require_jax()
    jnp = jax.numpy
    import jax.scipy.special as jsp

    # sympy's jax printer maps erf (and erfc) to math.erf, which rejects traced arrays
    special = {"erf": jsp.erf, "erfc": jsp.erfc}
    phi = sp.lambdify(z, expr + 0 * z, modules=[special, "jax"])
    recurrent = arch == "recurrent"
    k = 2 if two else 1

    def run(key, sw, sb, q0, c0):
        key, sub = jax.random.split(key)
        g = jax.random.normal(sub, (batch, n, k))
        e1 = g[..., :1] / jnp.linalg.norm(g[..., :1], axis=1, keepdims=True)
        if two:
            v = g[..., 1:] - e1 * jnp.sum(e1 * g[..., 1:], axis=1, keepdims=True)
            e2 = v / jnp.linalg.norm(v, axis=1, keepdims=True)
            h = jnp.concatenate([e1, c0 * e1 + jnp.sqrt(1.0 - c0 * c0) * e2], axis=2)
        else:
            h = e1
        h = jnp.sqrt(n * q0) * h
        if recurrent:
            key, kw, kb = jax.random.split(key, 3)
            w = sw * jax.random.normal(kw, (batch, n, n))
            b = sb * jax.random.normal(kb, (batch, n, 1))
        qs = []
        for t in range(1, depth + 1):
            if not recurrent:
                key, kw = jax.random.split(key)
                w = sw * jax.random.normal(kw, (batch, n, n))
            if not recurrent or (bias == "fresh" and t > 1):
                key, kb = jax.random.split(key)
                b = sb * jax.random.normal(kb, (batch, n, 1))
            zt = w @ h + b
            q = jnp.einsum("bik,bil->bkl", zt, zt) / n
            qs.append(q)
            h = jnp.broadcast_to(phi(zt), zt.shape)
        return jnp.stack(qs, axis=1)  # (batch, T, k, k)

    return jax.jit(run)


def full_observables(net: Network, batch: int, seed: np.random.SeedSequence, c0) -> dict:
    """Q, ln Q (and c, Q12 for two inputs) of ``batch`` real networks, each (batch, T).

    Parameters
    ----------
    net : Network
        A numeric network.
    batch : int
        Networks in this chunk.
    seed : numpy.random.SeedSequence
        The chunk's seed.
    c0 : float or None
        The correlation of two inputs (one input when None).

    Returns
    -------
    dict
        Arrays of shape (batch, T) keyed by observable.
    """
    jax = require_jax()
    two = c0 is not None
    kernel = _kernel(net.activation.expr, net.arch, net.bias, net.width, net.depth, batch, two)
    key = jax.random.PRNGKey(int(seed.generate_state(1, np.uint64)[0] >> np.uint64(1)))
    q = np.asarray(
        kernel(
            key,
            math.sqrt(float(net.sigma_w2) / net.width),
            math.sqrt(float(net.sigma_b2)),
            float(net.q0),
            0.0 if c0 is None else float(c0),
        )
    )
    q11 = q[:, :, 0, 0]
    with np.errstate(divide="ignore"):
        out = {"Q": q11, "lnQ": np.log(q11)}
    if two:
        q22, q12 = q[:, :, 1, 1], q[:, :, 0, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            out["c"] = q12 / np.sqrt(q11 * q22)
        out["Q12"] = q12
    return out
