"""A content-addressed cache of derived results (JSON, exact, never evaluated).

The key is the SHA-256 of a canonical JSON document of what determines a result: the
canonical ids of the diagrams summed, the Feynman rules' version and the options.  The same
content always maps to the same file and different content to a different one (no
collisions short of SHA-256's).  The folder is ``$NNQFT_CACHE_DIR`` or ``~/.cache/nnqft``.

Each entry is one JSON file ``{"format": 2, "key": KEY, "checksum": SHA256, "value": ...}``
whose sympy expressions are data trees of :mod:`nnqft.derive.exprtree` (rebuilt node by
node from a fixed table of sympy classes: nothing read back is evaluated or imported), and
whose checksum is the SHA-256 of the canonical JSON of the value.  An entry that cannot be
read, parsed, decoded or checked (garbage, a wrong shape, an unknown node, an edited value,
a checksum or key that does not match) is a miss: :func:`cached` recomputes and rewrites
it and prints one warning line on stderr.  The checksum catches corruption and careless
edits; whoever can write the folder can still store a wrong (but inert) result, so share a
cache folder only with people you trust for correctness.

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

import hashlib
import json
import os
import sys
from pathlib import Path

from .exprtree import ExprTreeError, from_tree, to_tree

__all__ = ["cache_dir", "cache_key", "load", "store", "cached", "checksum", "FORMAT"]

#: bump when the stored format changes (2: expression trees and a checksum, no srepr)
FORMAT = 2
#: entries larger than this are not read (a derived value is well under 10 MB)
MAX_BYTES = 256 * 2**20
#: the one key of the dict that marks a stored sympy expression
_TREE = "__tree__"
_FIELDS = {"format", "key", "checksum", "value"}


def cache_dir() -> Path:
    """The cache folder: ``$NNQFT_CACHE_DIR`` or ``~/.cache/nnqft``.

    Returns
    -------
    pathlib.Path
        The folder (not created here).

    Examples
    --------
    >>> import os
    >>> os.environ["NNQFT_CACHE_DIR"] = "/tmp/nnqft-example"
    >>> str(cache_dir())
    '/tmp/nnqft-example'
    >>> del os.environ["NNQFT_CACHE_DIR"]
    """
    env = os.environ.get("NNQFT_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "nnqft"


def cache_key(content: dict) -> str:
    """SHA-256 hex digest of the canonical JSON of ``content`` (sorted keys).

    Parameters
    ----------
    content : dict
        What determines a result (JSON-able).

    Returns
    -------
    str
        64 hex digits.

    Examples
    --------
    >>> cache_key({"a": 1, "b": 2}) == cache_key({"b": 2, "a": 1})
    True
    >>> len(cache_key({"what": "example"}))
    64
    """
    text = json.dumps({"format": FORMAT, **content}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def checksum(value) -> str:
    """SHA-256 hex digest of the canonical JSON of a stored (encoded) value.

    Parameters
    ----------
    value : JSON-able
        The encoded value of an entry.

    Returns
    -------
    str
        64 hex digits.

    Examples
    --------
    >>> checksum({"b": [1, 2], "a": "x"}) == checksum({"a": "x", "b": [1, 2]})
    True
    """
    return hashlib.sha256(_canonical(value).encode()).hexdigest()


def _encode(value):
    import sympy as sp

    if isinstance(value, sp.Basic):
        return {_TREE: to_tree(value)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if isinstance(value, dict):
        if len(value) == 1 and _TREE in value:
            return from_tree(value[_TREE])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _path(key: str) -> Path:
    return cache_dir() / key[:2] / f"{key}.json"


#: entries decoded in this process: path -> ((mtime_ns, size, inode), value); an entry is
#: reused only while its file is unchanged, so an edit on disk is read (and checked) again
_DECODED: dict = {}


def _load(key: str):
    """(value, None) on a hit; (None, None) when there is no entry; (None, path) when
    the entry is unreadable or altered."""
    path = _path(key)
    try:
        stat = path.stat()
        if stat.st_size > MAX_BYTES:
            return None, path
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        known = _DECODED.get(path)
        if known is not None and known[0] == stamp:
            return known[1], None
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError:
        return None, path
    try:
        doc = json.loads(data)
        if (
            type(doc) is not dict
            or set(doc) != _FIELDS
            or doc["format"] != FORMAT
            or doc["key"] != key
            or type(doc["checksum"]) is not str
            or doc["checksum"] != checksum(doc["value"])
        ):
            return None, path
        value = _decode(doc["value"])
    # any failure to parse or rebuild (bad bytes, JSON, nesting, trees) is a miss
    except (ValueError, TypeError, RecursionError, ExprTreeError):
        return None, path
    _DECODED[path] = (stamp, value)
    return value, None


def _warn(path: Path, what: str) -> None:
    sys.stderr.write(f"nnqft: warning: cache entry {path} was unreadable or altered; {what}\n")


def load(key: str):
    """The stored value for ``key``, or None.

    Parameters
    ----------
    key : str
        A :func:`cache_key`.

    Returns
    -------
    object or None
        The decoded value; None where there is no entry, or one that is unreadable or
        altered (then one warning line goes to stderr).

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["NNQFT_CACHE_DIR"] = tempfile.mkdtemp()
    >>> load(cache_key({"what": "never stored"})) is None
    True
    >>> del os.environ["NNQFT_CACHE_DIR"]
    """
    value, bad = _load(key)
    if bad is not None:
        _warn(bad, "ignored")
    return value


def store(key: str, value) -> None:
    """Store ``value`` under ``key``.

    Silently skips when the folder cannot be written or a value cannot be stored as a
    tree: a cache must never break a derivation.

    Parameters
    ----------
    key : str
        A :func:`cache_key`.
    value : JSON-able, sympy expressions allowed
        Stored with its expressions as :mod:`nnqft.derive.exprtree` data trees.

    Examples
    --------
    >>> import os, tempfile, sympy as sp
    >>> os.environ["NNQFT_CACHE_DIR"] = tempfile.mkdtemp()
    >>> store(cache_key({"what": "half"}), {"value": sp.Rational(1, 2)})
    >>> load(cache_key({"what": "half"}))["value"]
    1/2
    >>> del os.environ["NNQFT_CACHE_DIR"]
    """
    path = _path(key)
    try:
        encoded = _encode(value)
        text = _canonical(
            {"format": FORMAT, "key": key, "checksum": checksum(encoded), "value": encoded}
        )
    except (ExprTreeError, ValueError, TypeError):
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    except OSError:
        pass


def cached(content: dict, compute):
    """``load(cache_key(content))`` or else ``compute()``, stored and returned.

    Parameters
    ----------
    content : dict
        What determines the result (JSON-able): the key is its SHA-256.
    compute : callable
        ``compute()`` gives the value on a miss.

    Returns
    -------
    object
        The value, decoded from the cache or just computed; an entry that is unreadable or
        altered is recomputed, rewritten and reported on stderr.

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["NNQFT_CACHE_DIR"] = tempfile.mkdtemp()
    >>> cached({"what": "answer"}, lambda: {"n": 42})
    {'n': 42}
    >>> cached({"what": "answer"}, lambda: {"n": 0})    # a hit: compute is not called
    {'n': 42}
    >>> del os.environ["NNQFT_CACHE_DIR"]
    """
    key = cache_key(content)
    value, bad = _load(key)
    if value is None:
        value = compute()
        store(key, value)
        if bad is not None:
            _warn(bad, "recomputed")
    return value
