import copy
import functools
import json
import os
from pathlib import Path

from hypothesis import settings

settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Hermetic results: derived formulas are cached by content; tests start from an empty cache
# of their own (per process), so they exercise the cold path and never read a user's cache.
if "NNQFT_CACHE_DIR" not in os.environ:
    import tempfile

    os.environ["NNQFT_CACHE_DIR"] = tempfile.mkdtemp(prefix="nnqft-test-cache-")


def run_cli(args, capsys):
    """Run ``nnqft ARGS`` in-process; return (exit code, stdout, stderr)."""
    from nnqft.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


#: the repository's own reference values (tests only; product code never reads them)
REFERENCE_FILE = Path(__file__).resolve().parent / "reference" / "values.json"


@functools.lru_cache(maxsize=1)
def _load_reference():
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))


def reference_values(section=None):
    """The reference values of ``tests/reference/values.json``, or one section of them.

    Each call returns a fresh copy, so a test may change what it gets.

    >>> reference_values("mft")["relu_critical"]["sigma_w2"]
    2
    """
    values = copy.deepcopy(_load_reference())
    return values if section is None else values[section]


#: the file a payload would create; tests run in an empty folder and assert it never appears
PWNED = "pwned"
#: text that runs code if it is ever evaluated as Python (each must be refused, one line)
PAYLOADS = [
    f"__import__('os').system('touch {PWNED}')",
    "().__class__.__bases__",
    "z.__class__",
    "lambda z: z",
    f"exec(\"open('{PWNED}', 'w')\")",
    "eval('1')",
    f"open('{PWNED}', 'w')",
    f"leaky_relu(__import__('os').system('touch {PWNED}'))",
    "getattr(z, 'x')",
    "'abc'",
]
