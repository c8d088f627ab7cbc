"""The dependency direction of docs/architecture.md: rules <- diagrams <- derive <- commands.

Every import of every module (top-level and inside functions, absolute and relative) is
read with :mod:`ast`, resolved to a full ``nnqft.`` name and checked against the rooms it
may not reach.  A second check: every module of rules/, diagrams/ and derive/ has its test
module, ``tests/<same folders>/test_<module>.py`` (or ``test_<module>_<what>.py``).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: source folder -> package name (the package-dir mapping of pyproject.toml)
PACKAGES = {
    "rules": "nnqft.rules",
    "diagrams": "nnqft.diagrams",
    "derive": "nnqft.derive",
    "nnqft": "nnqft",
}
#: package -> packages it must not import
FORBIDDEN = {
    "nnqft.rules": ("nnqft.diagrams", "nnqft.derive", "nnqft.commands", "nnqft.cli"),
    "nnqft.diagrams": ("nnqft.derive", "nnqft.commands", "nnqft.cli"),
    "nnqft.derive": ("nnqft.commands", "nnqft.cli"),
}


def _modules():
    """(dotted name, path, is_package) of every module of the four source folders."""
    out = []
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            is_pkg = parts[-1] == "__init__"
            parts = parts[:-1] if is_pkg else parts
            out.append((".".join((package, *parts)), path, is_pkg))
    return out


MODULES = _modules()


def imports_of(name: str, source: str, is_package: bool) -> set[str]:
    """Every module ``source`` imports, as full dotted names (relative ones resolved)."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            # "from . import x" may import a submodule x
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _reaches(target: str, room: str) -> bool:
    return target == room or target.startswith(room + ".")


@pytest.mark.parametrize("name,path,is_pkg", MODULES, ids=[m[0] for m in MODULES])
def test_imports_follow_the_dependency_direction(name, path, is_pkg):
    rooms = [r for r in FORBIDDEN if _reaches(name, r)]
    bad = {
        target
        for target in imports_of(name, path.read_text(), is_pkg)
        for room in rooms
        for banned in FORBIDDEN[room]
        if _reaches(target, banned)
    }
    assert not bad, f"{name} imports {sorted(bad)} (see docs/architecture.md)"


def test_the_check_catches_a_wrong_import():
    """The resolver sees relative, absolute and function-level imports alike."""
    lazy = "def f():\n    from ...derive.meanfield import mft\n"
    assert "nnqft.derive.meanfield.mft" in imports_of("nnqft.rules.a.b", lazy, False)
    assert "nnqft.commands" in imports_of("nnqft.derive.x", "import nnqft.commands", False)
    assert "nnqft.diagrams.phi4" in imports_of("nnqft.diagrams", "from . import phi4", True)
    wrong = imports_of("nnqft.diagrams.x", "from ..derive.cache import cached", False)
    assert any(_reaches(t, "nnqft.derive") for t in wrong)
    assert not _reaches("nnqft.derived", "nnqft.derive")


@pytest.mark.parametrize(
    "path",
    [
        p
        for n, p, pkg in MODULES
        if not pkg and p.relative_to(ROOT).parts[0] in ("rules", "diagrams", "derive")
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_module_has_its_test_module(path):
    relative = path.relative_to(ROOT)
    folder = ROOT / "tests" / relative.parent
    stem = relative.stem
    found = [
        t
        for t in folder.glob(f"test_{stem}*.py")
        if t.stem == f"test_{stem}" or t.stem.startswith(f"test_{stem}_")
    ]
    assert found, f"{relative} has no test module tests/{relative.parent}/test_{stem}.py"
