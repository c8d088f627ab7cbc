"""Run every docstring example of the installed package (the docs must not lie)."""

import doctest
import importlib
import pkgutil

import pytest

# The subpackages live in other folders (package-dir mapping), so walk each one's own path.
PACKAGES = ["nnqft", "nnqft.commands", "nnqft.rules", "nnqft.derive", "nnqft.diagrams"]
MODULES = sorted(
    {p for p in PACKAGES}
    | {
        m.name
        for p in PACKAGES
        for m in pkgutil.iter_modules(importlib.import_module(p).__path__, p + ".")
        if "__main__" not in m.name
    }
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
