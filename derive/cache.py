"""A content-addressed cache of derived results (JSON, exact).

The key is the SHA-256 of a canonical JSON document of what determines a result: the
canonical ids of the diagrams summed, the Feynman rules' version and the options.  The same
content always maps to the same file and different content to a different one (no
collisions short of SHA-256's).  Values are JSON with sympy expressions stored as
``srepr`` strings (exact, with the symbols' assumptions), which reload much faster than
pickles.  The folder is ``$NNQFT_CACHE_DIR`` or ``~/.cache/nnqft``.

>>> import os, tempfile, sympy as sp
>>> os.environ["NNQFT_CACHE_DIR"] = tempfile.mkdtemp()
>>> key = cache_key({"what": "example", "order": 1})
>>> load(key) is None
True
>>> store(key, {"value": sp.Rational(1, 3)})
>>> load(key)["value"]
1/3
>>> del os.environ["NNQFT_CACHE_DIR"]
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

__all__ = ["cache_dir", "cache_key", "load", "store", "cached", "decode_srepr"]

#: bump when the stored format changes
FORMAT = 1


def cache_dir() -> Path:
    """The cache folder: ``$NNQFT_CACHE_DIR`` or ``~/.cache/nnqft``."""
    env = os.environ.get("NNQFT_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "nnqft"


def cache_key(content: dict) -> str:
    """SHA-256 hex digest of the canonical JSON of ``content`` (sorted keys)."""
    text = json.dumps({"format": FORMAT, **content}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _encode(value):
    import sympy as sp

    if isinstance(value, sp.Basic):
        return {"__srepr__": sp.srepr(value)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


@functools.lru_cache(maxsize=1)
def _namespace() -> dict:
    import sympy as sp

    return {name: getattr(sp, name) for name in dir(sp) if not name.startswith("_")}


def decode_srepr(text: str):
    """Rebuild a sympy object from its ``srepr`` (evaluated in sympy's namespace only;
    faster than ``sympify``, which tokenises the text first)."""
    return eval(text, {"__builtins__": {}}, _namespace())  # noqa: S307 - srepr we wrote


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {"__srepr__"}:
            return decode_srepr(value["__srepr__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _path(key: str) -> Path:
    return cache_dir() / key[:2] / f"{key}.json"


def load(key: str):
    """The stored value for ``key``, or None (also when the file is unreadable)."""
    path = _path(key)
    try:
        text = path.read_text()
    except OSError:
        return None
    try:
        return _decode(json.loads(text))
    except (ValueError, TypeError, SyntaxError):
        return None


def store(key: str, value) -> None:
    """Store ``value`` (JSON-able, sympy allowed) under ``key``; silently skips when the
    folder cannot be written (a cache must never break a derivation)."""
    path = _path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(_encode(value)))
        tmp.replace(path)
    except OSError:
        pass


def cached(content: dict, compute):
    """``load(cache_key(content))`` or else ``compute()``, stored and returned."""
    key = cache_key(content)
    value = load(key)
    if value is None:
        value = compute()
        store(key, value)
    return value
