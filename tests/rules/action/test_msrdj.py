"""The MSRDJ action (nnqft.rules.action.msrdj)."""

import pytest

from nnqft.errors import InvalidParameter
from nnqft.rules import action as A
from nnqft.rules.network import Network

NETS = [
    Network("feedforward", "linear"),
    Network("recurrent", "linear", bias="shared"),
    Network("recurrent", "linear", bias="fresh"),
]


def test_bad_replica_count():
    with pytest.raises(InvalidParameter, match="replicas"):
        A.msrdj_action(NETS[0], replicas=3)
