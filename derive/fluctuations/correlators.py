"""Observables of Q(t) = |z(t)|^2/N for nonlinear networks, from the fluctuation diagrams
(docs/conventions.md §8).

Given the collective field G(t) (the variance of z(t) given the layer below), the z_i(t)
are iid N(0, G(t)), so

    E Q(t) = E G(t),        Var Q(t) = Var G(t) + (2/N) E[G(t)^2],

and E G, Var G are the one- and two-point functions of dQ = G - K0 summed from the
diagrams of :mod:`nnqft.derive.fluctuations.theory`.  :func:`nonlinear_correlator` returns
the coefficients of 1/N^k per layer with every contributing diagram and its values.

>>> from nnqft.rules.network import Network
>>> out = nonlinear_correlator(Network("feedforward", "relu", 2.0, 0.0, q0=1.0), "variance", 1, 3)
>>> [s["coefficients"]["1"] for s in out["steps"]]      # 2 K0^2 + V = 2*4 + 20 (l - 1)
[8.0, 28.0, 48.0]
"""

from __future__ import annotations

from ...errors import InvalidParameter
from ...rules.network import Network, require_network

__all__ = ["nonlinear_correlator", "diagram_name"]


def diagram_name(diagram) -> str:
    """A name in words for a diagram of the fluctuation theory.

    >>> from nnqft.derive.fluctuations.theory import diagrams_at
    >>> [diagram_name(d) for d in diagrams_at(1, 1)] + [diagram_name(diagrams_at(2, 0)[0])]
    ['tadpole', 'tree (the dQ correlator)']
    """
    g = diagram.graph
    vertices = [d for _, d in g.nodes(data=True) if d.get("kind") == "vertex"]
    if not vertices:
        return "tree (the dQ correlator)"
    loops = g.number_of_edges() - g.number_of_nodes() + 1
    degrees = sorted(int(k[1:]) for k in diagram.vertices)
    if len(degrees) == 1 and loops == 1 and degrees == [3]:
        return "tadpole"
    if len(degrees) == 1 and degrees[0] == 2 * loops + 1:
        return f"{loops}-loop tadpole (one vertex of degree {degrees[0]})"
    shape = " + ".join(str(d) for d in degrees)
    return f"{loops}-loop diagram, vertices of degree {shape}"


def _diagram_entries(parts, role: str, index, layers) -> list[dict]:
    out = []
    for p in parts:
        d = p.diagram
        values = [0.0 if i is None else float(index(p.value, i)) for i in layers]
        out.append(
            {
                "id": d.id,
                "role": role,
                "order": -p.n_power if role == "mean" else -p.n_power - 1,
                "n_power": p.n_power,
                "symmetry_factor": str(d.symmetry_factor),
                "vertices": [int(k[1:]) for k in d.vertices],
                "name": diagram_name(d),
                "values": values,
            }
        )
    return out


def nonlinear_correlator(
    net: Network,
    observable: str,
    order: int,
    depth: int | None = None,
    *,
    quadrature: bool = False,
    c0: float | None = None,
) -> dict:
    """E Q(t) or Var Q(t) per layer through 1/N^``order`` (1 or 2) for a feedforward net
    with any activation, from the diagrams of its fluctuation theory.

    Returns ``{"observable", "order", "steps": [{"t", "coefficients": {"k": value}}],
    "diagrams": [{id, role, order, n_power, symmetry_factor, vertices, name, values}],
    "theory": description}``; a diagram's ``values`` are its contributions to E G(t)
    (role ``mean``) or to N^(k+1) Cov(G(t), G(t)) (role ``covariance``), per layer.
    ``observable="correlation"`` (two inputs of correlation ``c0``, order 1) gives
    c = E z1.z2 / sqrt(E|z1|^2 E|z2|^2) = c0 + c1/N per layer, and each step also carries
    its kernel ``K0``, ``K1`` (11, 22, 12).
    """
    from .feedforward import feedforward_correlators

    net = require_network(net)
    if observable not in ("mean", "variance", "correlation"):
        raise InvalidParameter(
            f"observable {observable!r} per layer: 'mean', 'variance' or 'correlation'"
        )
    if net.arch != "feedforward":
        raise InvalidParameter(
            "recurrent nonlinear networks: see the recurrent fluctuation theory "
            "(nnqft.derive.fluctuations.recurrent)"
        )
    if observable == "correlation":
        return _correlation(net, order, depth, c0)
    rows, extra = feedforward_correlators(net, depth, order, quadrature=quadrature, terms=True)
    theory = extra["theory"]
    layers = [None if r["layer"] == 1 else theory.index(("dQ", r["layer"])) for r in rows]
    steps = []
    for r in rows:
        mean, cov = r["mean"], r["covariance"]
        if observable == "mean":
            coeffs = {str(k): mean[k] for k in range(order + 1)}
        else:
            # Var G + (2/N) E[G^2], E[G^2] = (E G)^2 + Var G, through 1/N^order
            eg2 = [mean[0] ** 2, 2 * mean[0] * mean[1] + cov[0]]
            coeffs = {"0": 0.0, "1": cov[0] + 2 * eg2[0]}
            if order >= 2:
                coeffs["2"] = cov[1] + 2 * eg2[1]
        steps.append({"t": r["layer"], "coefficients": coeffs})
    diagrams = []
    for parts in extra["mean"]:
        diagrams += _diagram_entries(parts, "mean", lambda v, i: v[i], layers)
    if observable == "variance":
        for parts in extra["covariance"]:
            diagrams += _diagram_entries(parts, "covariance", lambda v, i: v[i, i], layers)
    return {
        "observable": observable,
        "order": order,
        "steps": steps,
        "diagrams": diagrams,
        "theory": theory.description,
    }


def _correlation(net: Network, order: int, depth, c0) -> dict:
    from .theory import diagrams_at
    from .two_inputs import two_input_correlators

    if order != 1:
        raise InvalidParameter("the two-input correlation is built through 1/N (--order 1)")
    if c0 is None:
        raise InvalidParameter("the correlation of two inputs needs c0")
    rows = two_input_correlators(net, c0, depth)
    steps = [
        {
            "t": r["layer"],
            "coefficients": {"0": r["correlation"][0], "1": r["correlation"][1]},
            "K0": r["K0"],
            "K1": r["K1"],
        }
        for r in rows
    ]
    (tadpole,) = diagrams_at(1, 1)
    return {
        "observable": "correlation",
        "order": 1,
        "c0": c0,
        "steps": steps,
        "diagrams": [
            {
                "id": tadpole.id,
                "role": "mean",
                "order": 1,
                "n_power": -1,
                "symmetry_factor": str(tadpole.symmetry_factor),
                "vertices": [3],
                "name": diagram_name(tadpole),
                "values": [r["correlation"][1] for r in rows],
            }
        ],
        "theory": f"feedforward {net.activation.name}, two inputs (c0 = {c0:g})",
    }
