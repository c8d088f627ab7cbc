"""The repository stands alone: nothing in it reads or cites files outside the checkout.

A fresh clone has nothing beside it, so the tests take their reference values from
``tests/reference/values.json`` and the code cites ``docs/conventions.md``.
"""

import doctest
import re
from pathlib import Path

import conftest
import pytest
from conftest import REFERENCE_FILE, reference_values

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ["tests", "algebra", "rules", "derive", "diagrams", "nnqft", "examples", "benchmarks"]
TOP_LEVEL = ["README.md", "pyproject.toml", ".ci/run"]
SUFFIXES = {".py", ".md", ".toml", ".json", ".txt", ".cfg", ".tex", ".sh", ""}
# written in pieces so that this file does not match itself
FORBIDDEN = [
    ".." + "/shared",
    "shared" + "/reference",
    "shared" + "/DESIGN",
    "PHYSICS" + ".md",
    "DESIGN" + ".md",
    "STYLE" + ".md",
]
PRODUCT = ["algebra", "rules", "derive", "diagrams", "nnqft"]


def _text_files(folders, extra=()):
    for name in folders:
        for path in sorted((ROOT / name).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in SUFFIXES:
                yield path
    for name in extra:
        if (ROOT / name).is_file():
            yield ROOT / name


def _offending_lines(path, patterns, root=ROOT):
    text = path.read_text(encoding="utf-8", errors="replace")
    return [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for n, line in enumerate(text.splitlines(), 1)
        if any(p in line for p in patterns)
    ]


def test_the_scan_sees_the_sources():
    names = {p.relative_to(ROOT).as_posix() for p in _text_files(SCANNED, TOP_LEVEL)}
    assert {"tests/conftest.py", "derive/meanfield/maps.py", "nnqft/cli.py", "README.md"} <= names


def test_nothing_points_outside_the_repository():
    files = _text_files(SCANNED, TOP_LEVEL)
    bad = [line for path in files for line in _offending_lines(path, FORBIDDEN)]
    assert not bad, "references to files outside the repository:\n" + "\n".join(bad)


def test_the_scan_would_catch_a_reference(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('"""See ' + "PHYSICS" + '.md §3."""\nx = 1\n', encoding="utf-8")
    assert _offending_lines(probe, FORBIDDEN, root=tmp_path) == [
        "probe.py:1: " + '"""See ' + "PHYSICS" + '.md §3."""'
    ]


def test_product_code_never_reads_the_reference_values():
    bad = [
        line
        for path in _text_files(PRODUCT)
        for line in _offending_lines(path, ["values.json", "tests/reference"])
    ]
    assert not bad, "\n".join(bad)


def test_conventions_cited_by_section_exist():
    """Every `docs/conventions.md §N` cited in the repository is a section of that file."""
    conventions = (ROOT / "docs" / "conventions.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## §(\d+) ", conventions, flags=re.M))
    assert len(sections) >= 9 and sections == {str(n) for n in range(1, len(sections) + 1)}
    cited = set()
    for path in _text_files(SCANNED, TOP_LEVEL):
        text = path.read_text(encoding="utf-8", errors="replace")
        for refs in re.findall(r"docs/conventions\.md((?:,? ?§\d+(?:-\d+)?)+)", text):
            for a, b in re.findall(r"§(\d+)(?:-(\d+))?", refs):
                cited.update(str(n) for n in range(int(a), int(b or a) + 1))
    assert cited, "no citation found: the pattern is wrong"
    assert cited <= sections, f"cited sections missing from docs/conventions.md: {cited - sections}"


def _entries(values):
    for section, body in values.items():
        if section == "about":
            continue
        assert isinstance(body, dict), section
        for name, entry in body.items():
            if name == "conventions":
                assert isinstance(entry, str) and entry
                continue
            yield f"{section}/{name}", entry


def test_reference_file_is_in_the_repository_and_every_entry_names_its_source():
    assert REFERENCE_FILE.is_file()
    assert REFERENCE_FILE.resolve().is_relative_to(ROOT)
    values = reference_values()
    assert "docs/conventions.md" in values["about"]
    entries = dict(_entries(values))
    assert len(entries) >= 14
    for name, entry in entries.items():
        assert isinstance(entry, dict), name
        source = entry.get("source")
        assert isinstance(source, str) and len(source) >= 20, f"{name} names no source"


def test_reference_values_are_copies():
    first = reference_values("mft")
    first["relu_critical"]["sigma_w2"] = -1
    assert reference_values("mft")["relu_critical"]["sigma_w2"] == 2
    with pytest.raises(KeyError):
        reference_values("no-such-section")


def test_conftest_doctests():
    result = doctest.testmod(conftest, verbose=False)
    assert result.attempted > 0 and result.failed == 0
