"""Run every docstring example of the installed package (the docs must not lie)."""

import doctest
import importlib
import pkgutil

import pytest

# The subpackages live in other folders (package-dir mapping), so walk each one's own path,
# recursively (derive/ has rooms).
ROOTS = ["nnqft", "nnqft.algebra", "nnqft.rules", "nnqft.derive", "nnqft.diagrams"]
MODULES = sorted(
    set(ROOTS)
    | {
        m.name
        for p in ROOTS
        for m in pkgutil.walk_packages(importlib.import_module(p).__path__, p + ".")
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
