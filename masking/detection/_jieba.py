"""jieba, loaded quietly and once, and its part-of-speech tags for short clauses.

jieba logs its dictionary loading to stderr at DEBUG level through its own handler;
we keep warnings and errors (a cache file it cannot write is worth a line). Its
dictionary ships inside the package, so nothing is fetched from anywhere.

Loading it is most of the detector's start-up: jieba's own path reads its prefix
dictionary from a marshal cache *file* (marshal then calls `readinto` per object), and
`jieba.posseg` parses the whole dictionary text again for the tags. Instead the prefix
dictionary, its total and the tags are kept together in one marshal file of our own,
read in one go: built from jieba's dictionary on first use, in the user's cache
directory (0700, never a shared temp directory), and rebuilt when jieba or its
dictionary file changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import sys
import tempfile
from pathlib import Path

# jieba opens its data files through pkg_resources when that imports, else straight
# from its package directory (`jieba._compat.get_module_res`): the same files. Importing
# pkg_resources costs ~0.3 s of CPU (it scans every installed distribution), a tenth of
# the server's start-up, and setuptools deprecates it; marked absent (None in
# `sys.modules` makes the import fail) for jieba's import only, so jieba takes its own
# fallback. Left alone if something already imported it.
_HIDE_PKG_RESOURCES = "pkg_resources" not in sys.modules
if _HIDE_PKG_RESOURCES:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]
try:
    import jieba
finally:
    if _HIDE_PKG_RESOURCES:
        del sys.modules["pkg_resources"]

__all__ = ["dictionary_tag", "initialize_jieba", "tag_words"]

jieba.setLogLevel(logging.WARNING)

_CACHE_FORMAT = 1
_word_tags: dict[str, str] = {}
"""Each dictionary word's part-of-speech tag, as `jieba.posseg` has it."""


def _dictionary_path() -> str:
    """The file jieba loads its dictionary from (it only hands out the open file)."""
    with jieba.dt.get_dict_file() as dictionary:
        name: str = dictionary.name
    return name


def cache_path() -> Path | None:
    """Where the dictionary cache lives: `$XDG_CACHE_HOME/wardgate`, else `~/.cache/wardgate`
    (None when there is no home to put it in)."""
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        root = Path(base) if base else Path.home() / ".cache"
    except RuntimeError:  # no HOME and no passwd entry
        return None
    # One file per jieba installation (its dictionary's path): several virtual
    # environments of one user would otherwise rebuild it over each other in turn.
    where = hashlib.blake2b(os.fsencode(_dictionary_path()), digest_size=6).hexdigest()
    return root / "wardgate" / f"jieba-{jieba.__version__}-{where}.marshal"


def _source_stamp() -> tuple[int, str, int, int]:
    """What the cache was built from: a change to any of it rebuilds the cache."""
    source = os.stat(_dictionary_path())
    return (_CACHE_FORMAT, jieba.__version__, source.st_size, source.st_mtime_ns)


def _read_cache(path: Path, stamp: tuple[int, str, int, int]) -> bool:
    try:
        with path.open("rb") as cache:
            status = os.fstat(cache.fileno())
            # marshal trusts its input: only a file this user wrote and nobody else can.
            if status.st_uid != os.getuid() or status.st_mode & 0o022:
                return False
            loaded = marshal.loads(cache.read())  # noqa: S302 - our own file, checked above
    except (OSError, EOFError, ValueError, TypeError):
        return False
    if not (isinstance(loaded, tuple) and len(loaded) == 4 and loaded[0] == stamp):
        return False
    _, freq, total, tags = loaded
    jieba.dt.FREQ, jieba.dt.total = freq, total
    jieba.dt.initialized = True
    _word_tags.update(tags)
    return True


def _build_cache(path: Path | None, stamp: tuple[int, str, int, int]) -> None:
    """Load through jieba itself, then keep what it loaded for the next process."""
    import jieba.posseg

    jieba.initialize()
    freq = jieba.dt.FREQ
    tags = jieba.posseg.dt.word_tag_tab
    # Keyed by the prefix dictionary's own strings and with interned tags, so that
    # marshal writes each string once and the next load shares them.
    _word_tags.update({word: sys.intern(tags[word]) for word in freq if word in tags})
    if path is None:
        return
    with contextlib.suppress(OSError):  # a cache we cannot write costs time, not function
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                marshal.dump((stamp, freq, jieba.dt.total, _word_tags), out)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


def initialize_jieba(path: Path | None = None) -> None:
    """Load the dictionary and the tags now, so the first request does not pay for them.
    `path`: the cache file (default `cache_path()`)."""
    if jieba.dt.initialized and _word_tags:
        return
    path = path or cache_path()
    stamp = _source_stamp()
    if path is None or not _read_cache(path, stamp):
        _build_cache(path, stamp)


def tag_words(clause: str) -> list[tuple[int, int, str]]:
    """(start, end, part-of-speech tag) of each word of a Han `clause`.

    The same segmentation and tags as `jieba.posseg.cut(clause, HMM=False)`: the most
    probable path through jieba's dictionary, each word tagged as its dictionary entry
    says ("nr" for person names, "x" for unknown). Called directly, without posseg's
    generator layers, it costs a third as much on the short clauses we pass.
    """
    tokenizer = jieba.dt
    dag = tokenizer.get_DAG(clause)
    route: dict[int, tuple[float, int]] = {}
    tokenizer.calc(clause, dag, route)
    tags = _word_tags
    words = []
    start = 0
    while start < len(clause):
        end = route[start][1] + 1
        words.append((start, end, str(tags.get(clause[start:end], "x"))))
        start = end
    return words


def dictionary_tag(word: str) -> str | None:
    """The part-of-speech tag of `word` in jieba's dictionary, None if it is not a word."""
    return _word_tags.get(word)
