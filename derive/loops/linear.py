"""Exact finite-N results for linear networks: an independent route (docs/conventions.md §1, §5).

Two kinds of exact results live here, both independent of the diagram engine
(:mod:`nnqft.diagrams.network`, :mod:`nnqft.derive.loops.amplitudes`):

* **brute-force Wick enumeration** for recurrent (one W) and feedforward (one W per layer)
  linear nets at a given integer depth: every product of Gaussian W entries and bias
  vectors is paired in every possible way, the Kronecker deltas of each pairing are
  followed around (union-find on the neuron indices) and each closed index loop gives N,
  each index path between the two ends of the deterministic input gives x.x = N q0.  The
  result is an exact polynomial in N and 1/N.  This gives
  ``M(k, m) = (1/N) E tr[(W^T)^k W^m]`` for a real Gaussian ``W_ij ~ N(0, sigma_w2/N)``,
  and the exact ``E Q(T)`` and ``E Q(T)^2`` of ``Q(T) = |z(T)|^2/N``;
* **closed forms at symbolic depth T for feedforward nets**: conditional on layer t-1 the
  z_i(t) are iid Gaussian, so the mean is the mean-field q(T) exactly, the variance obeys
  ``V(t) = (1 + 2/N) sigma_w2^2 V(t-1) + (2/N) m(t)^2`` (solved here in closed form) and,
  at ``sigma_b2 = 0``, ``E ln Q(T) = ln q0 + T [ln sigma_w2 + psi(N/2) - ln(N/2)]``.

>>> from nnqft.rules.symbols import N, sigma_w2
>>> trace_moment(2, 0)                  # (1/N) E tr(W^T W^T) = sigma_w2/N
sigma_w2/N
>>> sp.expand(trace_moment(2, 2) - sigma_w2**2)   # no 1/N term on the diagonal
2*sigma_w2**2/N**2
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterator, Sequence

import sympy as sp

from ...diagrams.unionfind import join, n_classes
from ...errors import InvalidParameter, NoExactForm
from ...rules import symbols as S
from ...rules.network import Network, require_network, resolve_depth

__all__ = [
    "Word",
    "wick_expectation",
    "trace_moment",
    "trace_word_moment",
    "exact_mean",
    "exact_second_moment",
    "exact_variance",
    "feedforward_mean",
    "feedforward_variance",
    "feedforward_log_mean",
    "finite_width_lyapunov",
    "OBSERVABLES",
]

OBSERVABLES = ("mean", "variance", "log-mean")

#: a word: the vector W(t_k) ... W(t_1) v; ``source`` is 'x' (the deterministic input) or
#: ('b', label) (a Gaussian bias vector; equal labels are the same vector); ``times`` are the
#: time labels of its W letters from the source outwards (they matter for feedforward nets)
Word = tuple


def _matchings(items: Sequence[int], allowed) -> Iterator[list[tuple[int, int]]]:
    """All perfect matchings of ``items`` whose pairs satisfy ``allowed(i, j)``."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for idx, other in enumerate(rest):
        if not allowed(first, other):
            continue
        remaining = rest[:idx] + rest[idx + 1 :]
        for tail in _matchings(remaining, allowed):
            yield [(first, other), *tail]


@functools.lru_cache(maxsize=4096)
def _wick_counts(pairs: tuple) -> tuple:
    """Exact Wick enumeration of E[prod over ``pairs`` of (word1 . word2)].

    Returns a tuple of ((n_w, n_b, n_x, power of N), count): each complete pairing
    contributes ``sigma_w2^n_w sigma_b2^n_b q0^n_x N^power``.
    """
    # index variables: each word has len(times)+1 of them, v_0 at the source
    letters = []  # (row var, col var, time label)
    sources = []  # (var, source)
    n_vars = 0
    ends = []
    for pair in pairs:
        pair_ends = []
        for source, times in pair:
            base = n_vars
            n_vars += len(times) + 1
            for j, t in enumerate(times, start=1):
                letters.append((base + j, base + j - 1, t))  # W_{v_j v_{j-1}}
            sources.append((base, source))
            pair_ends.append(base + len(times))
        ends.append(tuple(pair_ends))
    w_items = list(range(len(letters)))
    b_items = [i for i, (_, src) in enumerate(sources) if src != "x"]
    if len(w_items) % 2 or len(b_items) % 2:
        return ()
    counts: Counter = Counter()
    same_time = lambda i, j: letters[i][2] == letters[j][2]  # noqa: E731
    same_bias = lambda i, j: sources[i][1] == sources[j][1]  # noqa: E731
    b_matchings = list(_matchings(b_items, same_bias))
    x_vars = {v for v, src in sources if src == "x"}
    n_w = len(letters) // 2
    for wm in _matchings(w_items, same_time):
        base_parent = list(range(n_vars))
        for e1, e2 in ends:
            join(base_parent, e1, e2)
        for i, j in wm:
            (ri, ci, _), (rj, cj, _) = letters[i], letters[j]
            join(base_parent, ri, rj)
            join(base_parent, ci, cj)
        for bm in b_matchings:
            parent = list(base_parent)
            for i, j in bm:
                join(parent, sources[i][0], sources[j][0])
            # every component is a closed loop (N) or a path between two input ends (N q0)
            n_x = n_classes(parent, x_vars)
            counts[(n_w, len(bm), n_x, n_classes(parent) - n_w)] += 1  # N^faces (s/N)^n_w
    return tuple(sorted(counts.items()))


def wick_expectation(pairs: Sequence[Sequence[Word]]) -> sp.Expr:
    """E of a product of dot products of words, by exhaustive Wick pairing.

    ``pairs`` is a sequence of 2-tuples of words ``(source, times)``; a letter pairs with
    another only when their time labels agree (use one label for a recurrent W, the layer
    for feedforward W's).  Returns an exact polynomial in sigma_w2, sigma_b2, q0, N, 1/N.

    >>> wick_expectation([(("x", (1,)), ("x", (1,)))])     # E |W x|^2 = N sigma_w2 q0
    N*q0*sigma_w2
    """
    key = tuple(tuple((src, tuple(times)) for src, times in pair) for pair in pairs)
    total = sp.Integer(0)
    for (n_w, n_b, n_x, power), count in _wick_counts(key):
        total += count * S.sigma_w2**n_w * S.sigma_b2**n_b * S.q0**n_x * S.N**power
    return total


@functools.lru_cache(maxsize=512)
def trace_moment(k: int, m: int) -> sp.Expr:
    """``M(k, m) = (1/N) E tr[(W^T)^k W^m]`` for real Gaussian W, exact in N.

    Computed as ``(1/N) E[(W^k b).(W^m b)] / sigma_b2`` by exhaustive Wick pairing.

    >>> trace_moment(3, 1)
    2*sigma_w2**2/N + sigma_w2**2/N**2
    """
    _check_nonnegative_int("k", k)
    _check_nonnegative_int("m", m)
    value = wick_expectation([((("b", 0), (0,) * k), (("b", 0), (0,) * m))])
    return sp.expand(value / (S.N * S.sigma_b2))


@functools.lru_cache(maxsize=512)
def trace_word_moment(word: str) -> sp.Expr:
    """``(1/N) E tr(L_1 L_2 ... L_n)`` for a word of letters ``W`` and ``T`` (= W^T), real
    Gaussian W, exact in N by exhaustive Wick pairing.

    >>> trace_word_moment("WTWT")          # (1/N) E tr(W W^T W W^T)
    2*sigma_w2**2 + sigma_w2**2/N
    """
    if not isinstance(word, str) or set(word) - {"W", "T"}:
        raise InvalidParameter(f"a word is a string of 'W' and 'T' (W^T), got {word!r}")
    n = len(word)
    if n % 2:
        return sp.Integer(0)
    counts: Counter = Counter()
    for matching in _matchings(list(range(n)), lambda i, j: True):
        parent = list(range(n))
        for i, j in matching:
            fi = ((i + 1) % n, i) if word[i] == "T" else (i, (i + 1) % n)
            fj = ((j + 1) % n, j) if word[j] == "T" else (j, (j + 1) % n)
            join(parent, fi[0], fj[0])
            join(parent, fi[1], fj[1])
        counts[n_classes(parent)] += 1
    half = n // 2
    return sp.expand(sum(c * S.sigma_w2**half * S.N ** (f - half - 1) for f, c in counts.items()))


def _check_nonnegative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameter(f"{name} must be a non-negative integer, got {value!r}")


def _words(arch: str, bias: str | None, depth: int) -> list[Word]:
    """The words whose sum is z(depth) for a linear net (docs/conventions.md §1)."""
    if arch == "recurrent":
        words = [("x", (0,) * depth)]
        for t in range(1, depth + 1):  # bias injected at step t passes depth - t W's
            label = 0 if bias == "shared" else t
            words.append((("b", label), (0,) * (depth - t)))
        return words
    words = [("x", tuple(range(1, depth + 1)))]
    for t in range(1, depth + 1):
        words.append((("b", t), tuple(range(t + 1, depth + 1))))
    return words


def _net_words(net: Network, what: str) -> list[Word]:
    """The words of ``net`` (a linear :class:`Network` with an integer depth)."""
    net = require_network(net, what=what)
    if net.activation.name != "linear":
        raise InvalidParameter(
            f"{what}: exact Wick enumeration is for linear nets, got {net.activation.name!r}"
        )
    return _words(net.arch, net.bias, resolve_depth(net))


def exact_mean(net: Network) -> sp.Expr:
    """Exact ``E Q(T)`` of a linear net at integer depth T, by exhaustive Wick pairing.

    Parameters
    ----------
    net : Network
        A linear net; its arch, bias convention and depth (an integer >= 1) are used, the
        result is in the standard symbols sigma_w2, sigma_b2, q0 and N.

    Returns
    -------
    sympy.Expr
        An exact polynomial in sigma_w2, sigma_b2, q0, N and 1/N.

    Raises
    ------
    InvalidType
        If ``net`` is not a :class:`Network`.
    InvalidParameter
        If the activation is not linear or the depth is not an integer >= 1.

    Examples
    --------
    >>> exact_mean(Network("recurrent", bias="shared", depth=2))
    q0*sigma_w2**2 + sigma_b2*sigma_w2 + sigma_b2 + 2*q0*sigma_w2**2/N**2
    """
    words = _net_words(net, "exact_mean")
    total = sum((wick_expectation([(w1, w2)]) for w1 in words for w2 in words), sp.Integer(0))
    return sp.expand(total / S.N)


def exact_second_moment(net: Network) -> sp.Expr:
    """Exact ``E Q(T)^2`` by exhaustive Wick pairing (cost grows like (4T-1)!!; T <= 3).

    Parameters
    ----------
    net : Network
        A linear net with an integer depth (as for :func:`exact_mean`).

    Returns
    -------
    sympy.Expr
        An exact polynomial in sigma_w2, sigma_b2, q0, N and 1/N.

    Raises
    ------
    InvalidType, InvalidParameter
        For anything but a linear :class:`Network` of integer depth.

    Examples
    --------
    >>> exact_second_moment(Network("feedforward", depth=1)).subs(S.sigma_b2, 0)
    q0**2*sigma_w2**2 + 2*q0**2*sigma_w2**2/N
    """
    words = _net_words(net, "exact_second_moment")
    total = sp.Integer(0)
    seen: Counter = Counter()
    for w1 in words:
        for w2 in words:
            for w3 in words:
                for w4 in words:
                    key = tuple(
                        sorted(
                            [tuple(sorted([w1, w2], key=repr)), tuple(sorted([w3, w4], key=repr))],
                            key=repr,
                        )
                    )
                    seen[key] += 1
    for key, mult in seen.items():
        total += mult * wick_expectation(list(key))
    return sp.expand(total / S.N**2)


def exact_variance(net: Network) -> sp.Expr:
    """Exact ``Var Q(T) = E Q^2 - (E Q)^2`` by exhaustive Wick pairing (small T).

    Parameters
    ----------
    net : Network
        As for :func:`exact_mean`; the variance is :func:`exact_second_moment` minus the
        square of :func:`exact_mean`.

    Returns
    -------
    sympy.Expr
        ``Var Q(T)``, exact in N (it starts at order 1/N).

    Raises
    ------
    InvalidType, InvalidParameter
        As :func:`exact_mean`.

    Examples
    --------
    >>> exact_variance(Network("feedforward", depth=1)).subs(S.sigma_b2, 0)
    2*q0**2*sigma_w2**2/N
    """
    return sp.expand(exact_second_moment(net) - exact_mean(net) ** 2)


# --- feedforward closed forms at symbolic depth -----------------------------------------


def feedforward_mean(T: sp.Expr = S.T) -> sp.Expr:
    """``E Q(T)`` of a linear feedforward net: the mean-field q(T), exact at every N (§5).

    >>> feedforward_mean(1)
    q0*sigma_w2 + sigma_b2
    """
    s, b, q0 = S.sigma_w2, S.sigma_b2, S.q0
    q_star = b / (1 - s)
    return sp.simplify(s**T * (q0 - q_star) + q_star) if T != 1 else s * q0 + b


def feedforward_variance(T: sp.Expr = S.T) -> sp.Expr:
    """Exact ``Var Q(T)`` of a linear feedforward net at finite N and symbolic T.

    Solves ``V(t) = a V(t-1) + (2/N) m(t)^2``, ``V(0) = 0``, ``a = (1 + 2/N) sigma_w2^2``
    with ``m(t) = c1 s^t + c0`` (``c0 = sigma_b2/(1 - s)``, ``c1 = q0 - c0``):
    ``V(T) = (2/N) sum_t a^(T-t) m(t)^2``, each geometric sum in closed form.  The form
    has removable 0/0 points where a equals s or 1 (e.g. s = 0.8, N = 8): take the limit
    there, or use the recursion.

    >>> from nnqft.rules.symbols import N, q0, sigma_b2, sigma_w2
    >>> sp.simplify(feedforward_variance(1) - 2*(sigma_w2*q0 + sigma_b2)**2/N)
    0
    """
    s, b, q0, N = S.sigma_w2, S.sigma_b2, S.q0, S.N
    a = (1 + sp.Integer(2) / N) * s**2
    c0 = b / (1 - s)
    c1 = q0 - c0

    def geometric(r):  # sum_{t=1}^T a^(T-t) r^t
        return r * (a**T - r**T) / (a - r)

    total = c1**2 * geometric(s**2) + 2 * c1 * c0 * geometric(s) + c0**2 * geometric(1)
    return 2 / N * total


def finite_width_lyapunov(width: sp.Expr = S.N, sigma_w2: sp.Expr = S.sigma_w2) -> sp.Expr:
    """Twice the finite-width Lyapunov exponent: ``ln sigma_w2 + psi(N/2) - ln(N/2)`` (§5).

    The slope of ``E ln Q(T)`` in T for a linear feedforward net at sigma_b2 = 0.

    >>> float(finite_width_lyapunov(2, 1))      # psi(1) - ln 1 = -Euler gamma
    -0.5772156649015329
    """
    return sp.log(sigma_w2) + sp.polygamma(0, width / sp.Integer(2)) - sp.log(width / sp.Integer(2))


def feedforward_log_mean(T: sp.Expr = S.T, sigma_b2: sp.Expr = S.sigma_b2) -> sp.Expr:
    """Exact ``E ln Q(T)`` of a linear feedforward net, which exists at ``sigma_b2 = 0``.

    Q(t) = sigma_w2 Q(t-1) chi2_N/N with independent chi-square factors, and
    E ln(chi2_N/N) = psi(N/2) - ln(N/2).

    >>> feedforward_log_mean(3, 0)
    -3*log(N/2) + log(q0) + 3*log(sigma_w2) + 3*polygamma(0, N/2)
    """
    if sigma_b2 != 0:
        raise NoExactForm(
            "E ln Q(T) has an exact closed form only at sigma_b2 = 0 "
            "(for sigma_b2 > 0 use a truncated order)"
        )
    return sp.log(S.q0) + T * finite_width_lyapunov()
