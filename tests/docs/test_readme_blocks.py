"""The docs test's reading of Markdown: blocks, commands, transcripts, markers, and the
judgement of a command's result. Cheap, so the harness's rules are pinned down apart
from the long README run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.readme import ReadmeError, shell_blocks
from tests.helpers.shell_session import Outcome, judge

FENCE = "```"


def markdown(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "README.md"
    path.write_text(text.replace("~~~", FENCE), encoding="utf-8")
    return path


def test_given_plain_block_then_one_command_per_complete_shell_command(tmp_path: Path) -> None:
    path = markdown(
        tmp_path,
        """# Top
## Section

~~~sh
# a comment line is no command
key() { echo "$1"; }
ID=cus_...   # as printed by `make demo`
curl -s -X POST http://x/y \\
     -d '{"a": 1,
          "b": 2}'

echo done
~~~

~~~python
print("not shell")
~~~
""",
    )

    (block,) = shell_blocks(path)

    assert (block.line, block.heading, block.marker) == (4, "Section", None)
    texts = [command.text for command in block.commands]
    assert texts == [
        'key() { echo "$1"; }',
        "ID=cus_...   # as printed by `make demo`",
        'curl -s -X POST http://x/y \\\n     -d \'{"a": 1,\n          "b": 2}\'',
        "echo done",
    ]
    assert [command.line for command in block.commands] == [6, 7, 8, 12]
    assert [command.placeholder for command in block.commands] == [None, "ID", None, None]


def test_given_transcript_then_prompted_lines_run_and_the_rest_is_expected_output(
    tmp_path: Path,
) -> None:
    path = markdown(
        tmp_path,
        """## Calls
~~~console
$ curl -s http://x/a \\
       -H 'X: 1'
{"data":{"id":1},
 "governance":{}}
$ GW=http://127.0.0.1:${DEMO_PORT:-8080}
$ echo '
two lines'
~~~
""",
    )

    (block,) = shell_blocks(path)

    first, second, third = block.commands
    assert first.text == "curl -s http://x/a \\\n       -H 'X: 1'"
    assert first.expected == '{"data":{"id":1},\n "governance":{}}'
    assert (second.text, second.expected, second.placeholder) == (
        "GW=http://127.0.0.1:${DEMO_PORT:-8080}",
        None,
        None,
    )
    assert third.text == "echo '\ntwo lines'"


def test_given_markers_then_blocks_carry_them_with_their_reasons(tmp_path: Path) -> None:
    path = markdown(
        tmp_path,
        """<!-- docs-test: background -->
~~~sh
make demo
~~~
<!-- docs-test: skip runs the whole suite -->

~~~sh
make test
~~~
~~~bash
echo plain
~~~
""",
    )

    blocks = shell_blocks(path)

    assert [(b.marker, b.reason) for b in blocks] == [
        ("background", ""),
        ("skip", "runs the whole suite"),
        (None, ""),
    ]


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("<!-- docs-test: skip -->\n~~~sh\nmake x\n~~~\n", "must say why"),
        ("<!-- docs-test: skipp typo -->\n~~~sh\nmake x\n~~~\n", "unknown docs-test marker"),
        ("<!-- docs-test: skip why -->\nSome prose.\n~~~sh\nmake x\n~~~\n", "right before"),
        ("<!-- docs-test: skip why -->\n~~~yaml\na: 1\n~~~\n", "before a 'yaml' block"),
    ],
    ids=["skip-without-reason", "unknown-word", "stray", "not-shell"],
)
def test_given_misplaced_or_malformed_marker_then_the_file_is_refused(
    tmp_path: Path, text: str, complaint: str
) -> None:
    with pytest.raises(ReadmeError, match=complaint):
        shell_blocks(markdown(tmp_path, text))


def outcome(
    tmp_path: Path, expected: str | None, stdout: str, http: list[int], status: int = 0
) -> Outcome:
    block_text = (
        f"~~~console\n$ curl -s http://x\n{expected}\n~~~\n"
        if expected
        else ("~~~sh\ncurl -s http://x\n~~~\n")
    )
    (block,) = shell_blocks(markdown(tmp_path, block_text))
    return Outcome(block, block.commands[0], status=status, stdout=stdout, http=http)


@pytest.mark.parametrize(
    ("expected", "stdout", "http", "status", "problem"),
    [
        (None, "", [200], 0, None),
        (None, "", [401], 0, "HTTP status 401"),
        (None, "", [0], 7, "exit status 7"),
        ('{"a":1,"b":{"c":2}}', '{"a":9,"b":{}}', [200], 0, None),
        ('{"a":1}', '{"a":1,"extra":2}', [200], 0, "keys"),
        ('{"status":403,"reason":"no_consent"}', '{"status":403,"reason":"no_consent"}', [403], 0,
         None),
        ('{"status":403,"reason":"no_consent"}', '{"status":404,"reason":"not_found"}', [404], 0,
         "status is 404"),
        ('{"reason":"no_consent","status":403}', '{"reason":"x","status":403}', [403], 0,
         "reason is 'x'"),
        ('{"data":{…}}', '{"data":{}}', [200], 0, None),
        ('{"data":{…}}', '{"type":"urn:wardgate:problem:not_found"}', [404], 0, "HTTP status 404"),
        ('"客户王**来电"', '"另一个"', [200], 0, None),
        ('"text"', "not json", [200], 0, "not the JSON"),
    ],
)  # fmt: skip
def test_given_result_then_judged_by_exit_http_status_and_the_shape_shown(
    tmp_path: Path,
    expected: str | None,
    stdout: str,
    http: list[int],
    status: int,
    problem: str | None,
) -> None:
    found = judge(outcome(tmp_path, expected, stdout, http, status))
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
