"""Diagram listings: one value protocol (id, symmetry_factor, to_dict) for every model, and
the streamed JSON is the text json.dumps would write for the whole listing."""

import functools
import io
import json
from fractions import Fraction

import pytest

from nnqft.diagrams.listing import DiagramValue, listing, phi4_summary, write_json
from nnqft.diagrams.network import network_diagrams
from nnqft.diagrams.phi4 import generate_diagrams
from nnqft.errors import InvalidParameter, InvalidType
from nnqft.rules.network import Network


def test_both_diagram_kinds_follow_the_protocol():
    phi4 = generate_diagrams(2, 1)[0]
    linear = network_diagrams(Network("recurrent", depth=2), 1)[0]
    for d in (phi4, linear):
        assert isinstance(d, DiagramValue)
        assert d.to_dict()["id"] == d.id
        assert d.to_dict()["symmetry_factor"] == str(d.symmetry_factor)
    assert set(linear.to_dict()) == {
        "id",
        "edges",
        "symmetry_factor",
        "n_power",
        "source",
        "multiplicity",
    }


@pytest.mark.parametrize("legs,order", [(4, 2), (2, 3), (0, 2)])
def test_streamed_json_is_the_whole_dumps(legs, order):
    diagrams = generate_diagrams(legs, order)
    head = {"model": "on-phi4", "legs": legs, "order": order}
    out = io.StringIO()
    write_json(out, head, iter(diagrams), functools.partial(phi4_summary, legs=legs))
    whole = {
        **head,
        "diagrams": [d.to_dict() for d in diagrams],
        **phi4_summary(diagrams, legs),
    }
    assert out.getvalue() == json.dumps(whole) + "\n"


def test_four_point_channels_only_when_asked():
    diagrams = generate_diagrams(4, 1)
    assert "sum_symmetry_times_n_factor_channels" not in phi4_summary(diagrams, 4)
    sums = phi4_summary(diagrams, 4, channels=True)
    assert len(sums["sum_symmetry_times_n_factor_channels"]) == 3
    assert phi4_summary([], 4, channels=True)["count"] == 0


def test_listing_sums_the_symmetry_factors():
    diagrams = network_diagrams(Network("recurrent", "linear", bias="shared", depth=3), 2)
    entries = []
    result = listing(diagrams, write=entries.append)
    assert result["count"] == len(entries) == len(diagrams)
    assert result["sum_symmetry_factors"] == str(sum(d.symmetry_factor for d in diagrams))


def test_network_diagrams_take_a_network_with_an_integer_depth():
    with pytest.raises(InvalidType):
        network_diagrams("recurrent", 2)
    with pytest.raises(InvalidParameter, match="integer depth"):
        network_diagrams(Network("recurrent"), 1)
    with pytest.raises(InvalidParameter, match="non-negative"):
        network_diagrams(Network("recurrent", depth=2), -1)


@pytest.mark.parametrize("legs, order", [(2, 4), (4, 3), (0, 4)])
def test_grouped_sums_equal_the_sums_diagram_by_diagram(legs, order):
    """phi4_summary sums per distinct (symmetry factor, O(N) factor) group; the second
    route adds the Fractions of every diagram one by one."""
    from nnqft.diagrams.polystr import factor_string

    diagrams = generate_diagrams(legs, order, connected=True)
    total, weighted, per_channel = Fraction(0), {}, [{}, {}, {}]
    for d in diagrams:
        total += d.symmetry_factor
        for p, c in d.n_factor.items():
            weighted[p] = weighted.get(p, 0) + d.symmetry_factor * c
        for acc, poly in zip(per_channel, d.n_factor_channels):
            for p, c in poly.items():
                acc[p] = acc.get(p, 0) + d.symmetry_factor * c
    sums = phi4_summary(iter(diagrams), legs, channels=True)
    assert sums["count"] == len(diagrams)
    assert sums["sum_symmetry_factors"] == str(total)
    assert sums["sum_symmetry_times_n_factor"] == factor_string(weighted)
    if legs == 4:
        expected = [factor_string(p) for p in per_channel]
        assert sums["sum_symmetry_times_n_factor_channels"] == expected
