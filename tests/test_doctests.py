"""Run every docstring example of the installed package (the docs must not lie)."""

import doctest
import importlib
import pkgutil

import pytest

import nnqft

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(nnqft.__path__, "nnqft.") if "__main__" not in m.name
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
