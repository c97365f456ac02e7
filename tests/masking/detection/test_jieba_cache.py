"""jieba's dictionary and tags load from one cache file of ours, with the same results.

Each case runs a fresh interpreter: jieba's dictionary is process state, and this test
process may have loaded it already.
"""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

CLAUSES = ("客户王建国来电要求退款", "欧阳经理说平台金额不对", "董女士的银行卡号码")

_PROBE = """
import json, sys
from masking.detection import _jieba
_jieba.initialize_jieba()
posseg_loaded = "jieba.posseg" in sys.modules
tagged = [_jieba.tag_words(clause) for clause in {clauses}]
print(json.dumps({{"posseg": posseg_loaded, "tagged": tagged, "path": str(_jieba.cache_path())}}))
"""


def _probe_in_new_process(cache_home: Path, *args: str) -> dict[str, object]:
    """Run `python *args` with its own jieba cache; the probe prints one JSON object."""
    result = subprocess.run(
        [sys.executable, *args],
        env=os.environ | {"XDG_CACHE_HOME": str(cache_home)},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: dict[str, object] = json.loads(result.stdout)
    return loaded


def load_in_new_process(cache_home: Path) -> dict[str, object]:
    return _probe_in_new_process(cache_home, "-c", _PROBE.format(clauses=CLAUSES))


def posseg_tags() -> list[list[list[object]]]:
    """What `jieba.posseg` itself says, as (start, end, tag) per word."""
    import jieba.posseg

    tagged = []
    for clause in CLAUSES:
        words, start = [], 0
        for pair in jieba.posseg.cut(clause, HMM=False):
            words.append([start, start + len(pair.word), pair.flag])
            start += len(pair.word)
        tagged.append(words)
    return tagged


def test_given_no_cache_then_built_once_and_next_process_loads_it_with_same_tags(
    tmp_path: Path,
) -> None:
    first = load_in_new_process(tmp_path)
    cache = Path(str(first["path"]))
    assert cache.is_file()
    assert cache.parent.stat().st_mode & 0o777 == 0o700
    assert not cache.stat().st_mode & 0o077
    second = load_in_new_process(tmp_path)
    assert first["posseg"] is True  # built through jieba itself
    assert second["posseg"] is False  # loaded from the cache alone
    assert first["tagged"] == second["tagged"] == posseg_tags()


def test_given_cache_of_another_dictionary_then_rebuilt(tmp_path: Path) -> None:
    cache = Path(str(load_in_new_process(tmp_path)["path"]))
    stamp = marshal.loads(cache.read_bytes())[0]  # noqa: S302 - the file this test built
    stale = (stamp[0], stamp[1], stamp[2] + 1, stamp[3])  # a dictionary of another size
    cache.write_bytes(marshal.dumps((stale, {"王": 1}, 1, {"王": "x"})))
    again = load_in_new_process(tmp_path)
    assert again["posseg"] is True
    assert again["tagged"] == posseg_tags()
    assert marshal.loads(cache.read_bytes())[0] == stamp  # noqa: S302


def test_given_cache_writable_by_others_then_not_trusted(tmp_path: Path) -> None:
    cache = Path(str(load_in_new_process(tmp_path)["path"]))
    cache.chmod(0o666)
    assert load_in_new_process(tmp_path)["posseg"] is True


_IMPORT_PROBE = """
import json, sys
{first}
from masking.detection import _jieba
import jieba
_jieba.initialize_jieba()
print(json.dumps({{
    "pkg_resources": type(sys.modules["pkg_resources"]).__name__
    if "pkg_resources" in sys.modules else "not imported",
    "dictionary": _jieba._dictionary_path(),
    "words": len(jieba.dt.FREQ),
    "cut": jieba.lcut("客户王建国来电要求退款", HMM=False),
}}))
"""


def import_in_new_process(cache_home: Path, first: str = "") -> dict[str, object]:
    return _probe_in_new_process(
        cache_home,
        "-W",
        "ignore::DeprecationWarning",
        "-c",
        _IMPORT_PROBE.format(first=first),
    )


def test_given_fresh_process_then_jieba_loads_its_own_dictionary_without_pkg_resources(
    tmp_path: Path,
) -> None:
    import jieba

    loaded = import_in_new_process(tmp_path)

    assert loaded["pkg_resources"] == "not imported"  # nor left marked absent (None)
    packaged = Path(jieba.__file__).parent / "dict.txt"
    assert Path(str(loaded["dictionary"])).resolve() == packaged.resolve()
    assert int(str(loaded["words"])) > 300_000
    assert loaded["cut"] == ["客户", "王建国", "来电", "要求", "退款"]


def test_given_pkg_resources_already_imported_then_it_is_left_in_place(tmp_path: Path) -> None:
    loaded = import_in_new_process(tmp_path, first="import pkg_resources")

    assert loaded["pkg_resources"] == "module"
    assert loaded["cut"] == ["客户", "王建国", "来电", "要求", "退款"]
