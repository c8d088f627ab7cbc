"""Model ids are parsed in one place; truncation orders are checked by one helper."""

import pytest

from nnqft.errors import InvalidParameter, OrderTooHigh, UnknownName
from nnqft.rules.feynman import MODELS, get_rules, parse_model_id
from nnqft.rules.network import check_order


@pytest.mark.parametrize(
    "model,arch,bias",
    [
        ("linear-feedforward", "feedforward", None),
        ("linear-recurrent", "recurrent", "shared"),
        ("linear-recurrent-shared", "recurrent", "shared"),
        ("linear-recurrent-fresh", "recurrent", "fresh"),
    ],
)
def test_linear_model_ids_name_a_network(model, arch, bias):
    parsed = parse_model_id(model)
    assert parsed.family == "linear" and parsed.id == model
    assert (parsed.network.arch, parsed.network.bias) == (arch, bias)
    assert parsed.network.activation.name == "linear"
    assert get_rules(model).model == parsed.canonical


def test_every_model_parses_and_others_do_not():
    assert {parse_model_id(m).family for m in MODELS} == {"on-phi4", "linear"}
    assert parse_model_id("on-phi4").network is None
    with pytest.raises(UnknownName, match="did you mean 'linear-recurrent-fresh'"):
        parse_model_id("linear-recurrent-frsh")
    with pytest.raises(UnknownName):
        parse_model_id(None)


def test_check_order():
    assert check_order(0) == 0 and check_order(3, 3) == 3
    for bad in (-1, 1.5, True, "2", None):
        with pytest.raises(InvalidParameter, match="non-negative integer"):
            check_order(bad)
    with pytest.raises(OrderTooHigh, match=r"beyond reach for X \(maximum 2\)"):
        check_order(3, 2, what="X")
