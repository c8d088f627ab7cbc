"""The list union-find against networkx's connected components on random identifications."""

import random

import networkx as nx
import pytest

from nnqft.diagrams.unionfind import find_root, join, n_classes


@pytest.mark.parametrize("seed", range(20))
def test_classes_equal_connected_components(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 30)
    pairs = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(0, n))]
    parent = list(range(n))
    for i, j in pairs:
        join(parent, i, j)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(pairs)
    components = list(nx.connected_components(graph))
    assert n_classes(parent) == len(components)
    for component in components:
        assert len({find_root(parent, i) for i in component}) == 1
    members = rng.sample(range(n), rng.randint(0, n))
    met = {k for k, c in enumerate(components) for i in members if i in c}
    assert n_classes(parent, members) == len(met)


def test_copied_forest_is_independent():
    parent = list(range(4))
    join(parent, 0, 1)
    branch = list(parent)
    join(branch, 2, 3)
    assert (n_classes(parent), n_classes(branch)) == (3, 2)
