"""Run every docstring example of the installed package (the docs must not lie).

The rule: every module of the package runs at least one example (``attempted > 0``), except

* a package ``__init__`` that holds only its docstring (a room's table of contents: there is
  nothing to run in it), found by reading its source, and
* the modules in :data:`EXEMPT`, each with its reason.

Every ``>>>`` line written in a module's source must also be run by doctest (an example that
doctest cannot find, e.g. in a wrapped function, is a promise nobody checks).
"""

import ast
import doctest
import importlib
import inspect
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

_COMMANDS = "click commands: their examples are command lines, run by tests/cli and test_readme"
#: modules allowed to hold no example, with the reason
EXEMPT = {
    "nnqft.commands.action": _COMMANDS,
    "nnqft.commands.check": _COMMANDS,
    "nnqft.commands.correlator": _COMMANDS,
    "nnqft.commands.diagrams": _COMMANDS,
    "nnqft.commands.export": _COMMANDS,
    "nnqft.commands.finite_width": _COMMANDS,
    "nnqft.commands.mft": _COMMANDS,
    "nnqft.commands.ntk": _COMMANDS,
    "nnqft.commands.simulate": _COMMANDS,
}

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _only_a_docstring(module) -> bool:
    """True for a package ``__init__`` whose source is its docstring and nothing else."""
    if not hasattr(module, "__path__"):
        return False
    body = ast.parse(inspect.getsource(module)).body
    return len(body) <= 1 and all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body
    )


def _promised(module) -> int:
    """The number of ``>>>`` lines in the module's source."""
    return sum(line.lstrip().startswith(">>>") for line in inspect.getsource(module).splitlines())


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
    assert result.attempted == _promised(module), (
        f"{name}: {_promised(module)} '>>>' lines in the source, {result.attempted} run"
    )
    if name not in EXEMPT and not _only_a_docstring(module):
        assert result.attempted > 0, f"{name} has no docstring example (add one, or exempt it)"


def test_exemptions_are_current():
    """Every exempt module exists and still has no example (else it needs no exemption)."""
    for name, reason in EXEMPT.items():
        assert name in MODULES, f"stale exemption {name}"
        assert reason
        finder = doctest.DocTestFinder()
        found = sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
        assert found == 0, f"{name} has examples now; drop its exemption"


def test_the_rule_can_fail(tmp_path, monkeypatch):
    """The two checks above catch what they are for, on modules made up here."""
    import sys
    import types

    bare = types.ModuleType("nnqft_fake_bare", "A module that promises nothing.")
    assert doctest.testmod(bare).attempted == 0 and not _only_a_docstring(bare)
    # made-up rooms (a real room may gain re-exports, as nnqft.derive.meanfield did)
    for name, source in [
        ("nnqft_fake_room", '"""A table of contents."""\n'),
        ("nnqft_fake_exports", '"""Re-exports."""\n\nfrom math import pi\n'),
    ]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert _only_a_docstring(importlib.import_module("nnqft_fake_room"))
        assert not _only_a_docstring(importlib.import_module("nnqft_fake_exports"))
    finally:
        sys.modules.pop("nnqft_fake_room", None)
        sys.modules.pop("nnqft_fake_exports", None)
    assert not _only_a_docstring(importlib.import_module("nnqft.diagrams"))
