"""Named classes of diagrams: tree, petal, cactus, mushroom, other (docs/conventions.md §6).

The class is read off the *blocks* (biconnected pieces) of the amputated diagram: the
vertices and the internal propagators, legs and their lines left out.  A self-loop is a
block of its own; a bundle of parallel lines is one block.  A block is a *bridge* (one
line), a *cycle* (as many lines as vertices: a self-loop, a double line, a ring) or a
*core* (anything else: a triple line, two rings sharing a line, ...).

* ``tree``     -- no loop (the bare line, tree diagrams of a cubic theory);
* ``petal``    -- every loop is a self-loop at one vertex and the vertices form a tree:
  tadpoles on tadpoles (the daisy's petals; the O(N) figure-eight, the phi^4 tadpole);
* ``cactus``   -- every block a bridge or a cycle, some cycle through several vertices
  (bubbles and rings hanging on vertices).  ``petal`` and ``cactus`` together are the
  graph-theoretic cactus diagrams of :func:`nnqft.diagrams.phi4.is_cactus`, the leading
  (mean-field, O(1)) class at large N;
* ``mushroom`` -- exactly one core block, with cactus pieces (stems, bubbles, tadpoles)
  hanging on it (the sunset, the phi^3 two-loop cap);
* ``other``    -- two or more core blocks.

These are this package's definitions: the paper's (Grosvenor & Jefferson 2022) own
definitions of "mushroom" and "petal" could not be checked here, so the names are given
plain graph meanings above.  Nothing here imports networkx (the phi^4 listing uses it).

>>> from nnqft.diagrams.phi4 import generate_diagrams
>>> [diagram_class(d) for d in generate_diagrams(2, 2, connected=True)]
['petal', 'cactus', 'mushroom']
"""

from __future__ import annotations

__all__ = ["DIAGRAM_CLASSES", "diagram_class", "classify", "class_and_bridge"]

#: the class names, from the simplest
DIAGRAM_CLASSES = ("tree", "petal", "cactus", "mushroom", "other")


def _blocks(n: int, edges: list[tuple[int, int]], weights: list[int]) -> list[tuple[int, int]]:
    """``(lines, vertices)`` of every block of the graph on nodes 0..n-1 whose edge k
    stands for ``weights[k]`` parallel lines (no self-loops; iterative Tarjan with an
    edge stack).  A block's vertices are its tree edges + 1."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for k, (a, b) in enumerate(edges):
        adj[a].append((b, k))
        adj[b].append((a, k))
    disc = [-1] * n
    low = [0] * n
    out = []
    t = 0
    for root in range(n):
        if disc[root] >= 0 or not adj[root]:
            continue
        disc[root] = low[root] = t
        t += 1
        nodes, vias, its = [root], [-1], [iter(adj[root])]
        stack: list[int] = []  # edge ids: k + 1 a tree edge, -(k + 1) a back edge
        while its:
            u = nodes[-1]
            via = vias[-1]
            for v, k in its[-1]:
                if k == via:
                    continue
                dv = disc[v]
                if dv < 0:  # a tree edge: go down
                    stack.append(k + 1)
                    disc[v] = low[v] = t
                    t += 1
                    nodes.append(v)
                    vias.append(k)
                    its.append(iter(adj[v]))
                    break
                if dv < disc[u]:  # a back edge, seen once (from its lower end)
                    stack.append(-k - 1)
                    if dv < low[u]:
                        low[u] = dv
            else:  # u is done: go up
                its.pop()
                nodes.pop()
                vias.pop()
                if not nodes:
                    continue
                p = nodes[-1]
                if low[u] < low[p]:
                    low[p] = low[u]
                if low[u] >= disc[p]:  # p separates u's subtree: pop one block
                    n_lines = n_tree = 0
                    while True:
                        k = stack.pop()
                        if k > 0:
                            n_lines += weights[k - 1]
                            n_tree += 1
                            if k == via + 1:
                                break
                        else:
                            n_lines += weights[-k - 1]
                    out.append((n_lines, n_tree + 1))
    return out


def classify(labels, edges, connected: bool = False) -> str:
    """The class of an encoded diagram: ``labels[i]`` the leg label of node i or None
    for a vertex, ``edges`` its propagators as node pairs; ``connected=True`` promises a
    connected diagram (a shortcut: its vertices are then one component).

    >>> classify((1, 2, None), ((0, 2), (1, 2), (2, 2)))
    'petal'
    >>> classify((1, 2, None, None), ((0, 2), (1, 3), (2, 3), (2, 3), (2, 3)))
    'mushroom'
    """
    return class_and_bridge(labels, edges, connected)[0]


def class_and_bridge(labels, edges, connected: bool = False) -> tuple[str, bool]:
    """``(class, has a bridge)`` from one block search: a bridge is a block of one line
    (an internal line whose cut splits the vertices), so a connected diagram is 1PI iff
    it has none (:func:`nnqft.diagrams.phi4.is_one_particle_irreducible`, here for free).

    >>> class_and_bridge((1, 2, None, None), ((0, 2), (1, 3), (2, 2), (2, 3), (3, 3)), True)
    ('petal', True)
    """
    n_vertices = sum(1 for lab in labels if lab is None)
    if not n_vertices:
        return "tree", False
    bundles: dict = {}  # parallel lines as one edge with a multiplicity
    self_loops = 0
    n_lines = 0
    for a, b in edges:
        if labels[a] is None and labels[b] is None:
            if a == b:
                self_loops += 1
            else:
                n_lines += 1
                key = (a, b) if a < b else (b, a)
                bundles[key] = bundles.get(key, 0) + 1
    if connected and n_lines == n_vertices - 1:  # the vertices form a tree
        return ("petal" if self_loops else "tree"), n_lines > 0
    cycles = cores = bridges = 0
    if connected and len(bundles) == n_vertices - 1:  # a tree of bundles: each a block
        blocks = [(m, 2) for m in bundles.values()]
    else:
        blocks = _blocks(len(labels), list(bundles), list(bundles.values()))
    for lines, nodes in blocks:
        if lines == 1:
            bridges += 1
        elif lines == nodes:
            cycles += 1
        else:
            cores += 1
    if cores:
        return ("mushroom" if cores == 1 else "other"), bridges > 0
    if cycles:
        return "cactus", bridges > 0
    return ("petal" if self_loops else "tree"), bridges > 0


def diagram_class(diagram) -> str:
    """The class (:data:`DIAGRAM_CLASSES`) of a diagram: a ``networkx.MultiGraph`` in the
    conventions of :mod:`nnqft.diagrams`, or any object with ``labels`` and ``edges``
    (the phi^4 :class:`~nnqft.diagrams.phi4.Diagram`, a generated ``RawDiagram``) or with
    a ``graph`` (:class:`~nnqft.diagrams.from_rules.RulesDiagram`).

    >>> from nnqft.diagrams import make_diagram
    >>> sunset = [(1, "x"), ("x", "y"), ("x", "y"), ("x", "y"), ("y", 2)]
    >>> diagram_class(make_diagram(sunset, legs={1: 1, 2: 2}))
    'mushroom'
    """
    if not hasattr(diagram, "adj"):  # not a graph itself
        if hasattr(diagram, "labels") and hasattr(diagram, "edges"):
            return classify(diagram.labels, diagram.edges)
        diagram = getattr(diagram, "graph", None)
    if not (hasattr(diagram, "adj") and hasattr(diagram, "nodes")):
        from ..errors import InvalidType

        raise InvalidType(f"diagram_class needs a diagram graph, got {type(diagram).__name__}")
    pos = {x: k for k, x in enumerate(diagram.nodes)}
    labels = [
        None if d.get("kind") == "vertex" else d.get("leg", x) for x, d in diagram.nodes(data=True)
    ]
    return classify(labels, [(pos[u], pos[v]) for u, v in diagram.edges()])
