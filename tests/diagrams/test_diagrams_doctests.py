"""Docstring examples of the Feynman-rule and diagram modules (they must not lie).

tests/test_doctests.py walks the ``nnqft/`` folder only; the subpackages mapped from
``rules/`` and ``diagrams/`` are listed here explicitly.
"""

import doctest
import importlib

import pytest

MODULES = [
    "nnqft.rules.feynman",
    "nnqft.diagrams",
    "nnqft.diagrams.canonical",
    "nnqft.diagrams.generate",
    "nnqft.diagrams.on_tensor",
    "nnqft.diagrams.phi4",
    "nnqft.diagrams.zero_dim",
    "nnqft.diagrams.draw",
    "nnqft.commands.diagrams",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
