"""Signed checkpoints (audit/checkpoint.py): c2sp.org/tlog-checkpoint in a signed note.

Vectors: the example checkpoint of C2SP tlog-checkpoint.md and the example note of
C2SP signed-note.md (their keys are not published, so only parsing is checked), and the
notes of golang.org/x/mod sumdb/note/note_test.go (TestSign, TestOpen).
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointFailure,
    NoteSignature,
    open_note,
    open_signed_checkpoint,
    parse_body,
    parse_note,
    sign_checkpoint,
    sign_note,
    signature_line,
)
from keys.signing import NoteSigner, NoteVerifier

ORIGIN = "wardgate.example/audit"
ROOT = hashlib.sha256(b"\x00").digest()
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode()  # has "-" and "_"
SEED = bytes(range(32))
OTHER_SEED = bytes(range(32, 64))

SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
SPEC_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONr"
    "MouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SEED_B64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  # 0x01 ‖ seed, from its skey
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdn"
    "gotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwn"
    "WLox33WWd1RvMc+QQ=\n"
)


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.from_seed(ORIGIN, SEED)


@pytest.fixture
def verifier(signer: NoteSigner) -> NoteVerifier:
    return NoteVerifier.from_vkey(signer.verifier_key)


@pytest.fixture
def checkpoint() -> Checkpoint:
    return Checkpoint(ORIGIN, 1234, ROOT)


def _reason(excinfo: pytest.ExceptionInfo[CheckpointError]) -> CheckpointFailure:
    return excinfo.value.reason


# Body format


def test_given_spec_checkpoint_fields_then_body_is_the_spec_text_byte_for_byte() -> None:
    root = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    checkpoint = Checkpoint("example.com/behind-the-sofa", 20852163, root)

    assert checkpoint.body().encode() == SPEC_CHECKPOINT.split("\n\n")[0].encode() + b"\n"


def test_given_known_checkpoint_then_body_is_three_newline_terminated_lines() -> None:
    checkpoint = Checkpoint(ORIGIN, 0, bytes(32))

    assert checkpoint.body() == (
        "wardgate.example/audit\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    )


def test_given_spec_checkpoint_note_then_its_body_parses() -> None:
    body, signatures = parse_note(SPEC_CHECKPOINT)

    assert parse_body(body) == Checkpoint(
        "example.com/behind-the-sofa",
        20852163,
        base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="),
    )
    assert [(s.name, len(s.key_id), len(s.signature)) for s in signatures] == [
        ("example.com/behind-the-sofa", 4, 64)
    ]


def test_given_body_with_extension_lines_then_they_round_trip() -> None:
    text = f"{ORIGIN}\n7\n{base64.b64encode(ROOT).decode()}\next one\next two\n"

    checkpoint = parse_body(text)

    assert checkpoint.extensions == ("ext one", "ext two")
    assert checkpoint.body() == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n",
        f"{ORIGIN}\n7\n",
        f"{ORIGIN}\n7\n{base64.b64encode(ROOT).decode()}",
        f"\n7\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n07\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n-7\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n+7\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n 7\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n٧\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n18446744073709551616\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n7\n{base64.b64encode(ROOT).decode().rstrip('=')}\n",
        f"{ORIGIN}\n7\n{URLSAFE_ROOT}\n",
        f"{ORIGIN}\n7\n{base64.b64encode(ROOT[:31]).decode()}\n",
        f"{ORIGIN}\n7\n{base64.b64encode(ROOT).decode()}\n\n",
        f"{ORIGIN}\r\n7\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n7\n{base64.b64encode(ROOT).decode()}\r\n",
    ],
    ids=[
        "empty",
        "blank",
        "no-root",
        "no-final-newline",
        "empty-origin",
        "leading-zero",
        "negative",
        "plus-sign",
        "space",
        "non-ascii-digit",
        "above-uint64",
        "unpadded-root",
        "urlsafe-root",
        "short-root",
        "empty-extension-line",
        "crlf-origin",
        "crlf-root",
    ],
)
def test_given_malformed_body_then_parse_raises_malformed_body(text: str) -> None:
    with pytest.raises(CheckpointError) as caught:
        parse_body(text)

    assert _reason(caught) is CheckpointFailure.MALFORMED_BODY


def test_given_largest_uint64_size_then_it_parses() -> None:
    text = f"{ORIGIN}\n18446744073709551615\n{base64.b64encode(ROOT).decode()}\n"

    assert parse_body(text).tree_size == 2**64 - 1


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [("", 1, ROOT), ("a\nb", 1, ROOT), (ORIGIN, -1, ROOT), (ORIGIN, 2**64, ROOT), (ORIGIN, 1, b"")],
)
def test_given_invalid_fields_then_checkpoint_refuses_them(
    origin: str, size: int, root: bytes
) -> None:
    with pytest.raises(CheckpointError) as caught:
        Checkpoint(origin, size, root)

    assert _reason(caught) is CheckpointFailure.MALFORMED_BODY


# Signing and opening


def test_given_signed_checkpoint_then_it_opens_to_the_same_checkpoint(
    checkpoint: Checkpoint, signer: NoteSigner, verifier: NoteVerifier
) -> None:
    note = sign_checkpoint(checkpoint, signer)

    assert open_signed_checkpoint(note, verifier) == checkpoint


def test_given_signed_checkpoint_then_note_is_body_blank_line_and_em_dash_line(
    checkpoint: Checkpoint, signer: NoteSigner
) -> None:
    note = sign_checkpoint(checkpoint, signer)
    body, signatures = parse_note(note)
    raw = base64.b64decode(note.splitlines()[-1].split(" ")[2])

    assert note.startswith(checkpoint.body() + "\n\u2014 " + ORIGIN + " ")
    assert note.endswith("\n")
    assert note.count("\n") == 5
    assert body == checkpoint.body()
    assert signatures == [NoteSignature(ORIGIN, signer.key_id, raw[4:])]
    assert raw[:4] == signer.key_id
    assert signer.verifier().verify(body.encode(), raw[4:])


def test_given_sumdb_text_and_key_then_sign_note_is_the_published_note() -> None:
    """TestSign: Ed25519 is deterministic, so the whole note is byte-for-byte sumdb's."""
    peter = NoteSigner.from_seed("PeterNeumann", base64.b64decode(PETER_SEED_B64)[1:])

    assert sign_note(GO_TEXT, peter) == GO_TEXT + "\n" + PETER_SIG


def test_given_sumdb_note_with_two_signers_then_each_key_opens_it() -> None:
    """TestOpen: a known key verifies its line and ignores the other one."""
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG

    assert open_note(note, NoteVerifier.from_vkey(PETER_VKEY)) == GO_TEXT
    assert open_note(note, NoteVerifier.from_vkey(ENOCH_VKEY)) == GO_TEXT


def test_given_sumdb_signature_with_inserted_bytes_then_open_raises_bad_signature() -> None:
    """TestOpen's "invalid signature": ABCD spliced into Peter's base64."""
    note = GO_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]

    with pytest.raises(CheckpointError, match=r"PeterNeumann\+c74f20a3") as caught:
        open_note(note, NoteVerifier.from_vkey(PETER_VKEY))

    assert _reason(caught) is CheckpointFailure.BAD_SIGNATURE


@pytest.mark.parametrize(
    "note",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        "\udcff" + GO_TEXT + "\n" + PETER_SIG,  # sumdb's \xff byte, decoded surrogateescape
        GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name")[:-1],
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        GO_TEXT + "\n" + PETER_SIG * 101,
    ],
    ids=[
        "no-signatures",
        "blank-line-only",
        "no-final-newline",
        "control-char",
        "not-utf8",
        "bad-name",
        "unexpected-line",
        "101-signatures",
    ],
)
def test_given_sumdb_malformed_note_then_open_raises_malformed_note(note: str) -> None:
    with pytest.raises(CheckpointError) as caught:
        open_note(note, NoteVerifier.from_vkey(PETER_VKEY))

    assert _reason(caught) is CheckpointFailure.MALFORMED_NOTE


def test_given_spec_note_with_blank_lines_in_its_text_then_last_blank_line_splits() -> None:
    body, signatures = parse_note(SPEC_NOTE)

    assert body == (
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\n"
        "ed è subito sera.\n"
    )
    assert [s.name for s in signatures] == ["quasimodo.example/salvatore"]


def test_given_extra_unknown_signer_then_checkpoint_still_opens(
    checkpoint: Checkpoint, signer: NoteSigner, verifier: NoteVerifier
) -> None:
    witness = NoteSigner.from_seed("witness.example/w1", OTHER_SEED)
    note = sign_checkpoint(checkpoint, signer)
    cosigned = note + signature_line(checkpoint.body(), witness)
    witness_first = checkpoint.body() + "\n" + signature_line(checkpoint.body(), witness)
    witness_first += note.split("\n\n")[1]

    assert open_signed_checkpoint(cosigned, verifier) == checkpoint
    assert open_signed_checkpoint(witness_first, verifier) == checkpoint
    assert open_signed_checkpoint(cosigned, witness.verifier()) == checkpoint


def test_given_garbage_line_by_unknown_key_sharing_our_name_then_it_is_ignored(
    checkpoint: Checkpoint, signer: NoteSigner, verifier: NoteVerifier
) -> None:
    """signed-note: ignore unknown keys even when they share a name (but not the id)."""
    other_id = bytes(b ^ 0xFF for b in signer.key_id)
    junk = base64.b64encode(other_id + bytes(64)).decode()
    note = sign_checkpoint(checkpoint, signer) + f"— {ORIGIN} {junk}\n"

    assert open_signed_checkpoint(note, verifier) == checkpoint


@pytest.mark.parametrize(
    ("field", "replacement"),
    [
        ("size", "1235"),
        ("root", base64.b64encode(hashlib.sha256(b"\x01").digest()).decode()),
        ("origin", "wardgate.example/other"),
    ],
)
def test_given_tampered_body_then_open_raises_bad_signature(
    checkpoint: Checkpoint,
    signer: NoteSigner,
    verifier: NoteVerifier,
    field: str,
    replacement: str,
) -> None:
    note = sign_checkpoint(checkpoint, signer)
    lines = note.split("\n")
    lines[{"origin": 0, "size": 1, "root": 2}[field]] = replacement

    with pytest.raises(CheckpointError) as caught:
        open_signed_checkpoint("\n".join(lines), verifier)

    assert _reason(caught) is CheckpointFailure.BAD_SIGNATURE


def test_given_checkpoint_signed_by_another_key_then_open_raises_not_signed(
    checkpoint: Checkpoint, verifier: NoteVerifier
) -> None:
    impostor = NoteSigner.from_seed(ORIGIN, OTHER_SEED)  # same name, another key
    note = sign_checkpoint(checkpoint, impostor)

    with pytest.raises(CheckpointError) as caught:
        open_signed_checkpoint(note, verifier)

    assert _reason(caught) is CheckpointFailure.NOT_SIGNED


def test_given_other_keys_signature_under_our_name_and_id_then_open_raises_bad_signature(
    checkpoint: Checkpoint, signer: NoteSigner, verifier: NoteVerifier
) -> None:
    impostor = NoteSigner.from_seed(ORIGIN, OTHER_SEED)
    forged = signer.key_id + impostor.sign(checkpoint.body().encode())
    note = f"{checkpoint.body()}\n— {ORIGIN} {base64.b64encode(forged).decode()}\n"

    with pytest.raises(CheckpointError) as caught:
        open_signed_checkpoint(note, verifier)

    assert _reason(caught) is CheckpointFailure.BAD_SIGNATURE


def test_given_our_key_signs_twice_and_one_line_is_bad_then_open_raises_bad_signature(
    checkpoint: Checkpoint, signer: NoteSigner, verifier: NoteVerifier
) -> None:
    bad = base64.b64encode(signer.key_id + bytes(64)).decode()
    note = sign_checkpoint(checkpoint, signer) + f"— {ORIGIN} {bad}\n"

    with pytest.raises(CheckpointError) as caught:
        open_signed_checkpoint(note, verifier)

    assert _reason(caught) is CheckpointFailure.BAD_SIGNATURE


@pytest.mark.parametrize("cut", [1, 10, 60, 90])
def test_given_truncated_note_then_open_raises_checkpoint_error(
    checkpoint: Checkpoint, signer: NoteSigner, verifier: NoteVerifier, cut: int
) -> None:
    note = sign_checkpoint(checkpoint, signer)

    with pytest.raises(CheckpointError) as caught:
        open_signed_checkpoint(note[:-cut], verifier)

    assert _reason(caught) is CheckpointFailure.MALFORMED_NOTE


def test_given_note_cut_to_its_body_then_open_raises_malformed_note(
    checkpoint: Checkpoint, signer: NoteSigner, verifier: NoteVerifier
) -> None:
    with pytest.raises(CheckpointError) as caught:
        open_signed_checkpoint(checkpoint.body(), verifier)

    assert _reason(caught) is CheckpointFailure.MALFORMED_NOTE


def test_given_missing_blank_line_then_open_raises_malformed_note(
    checkpoint: Checkpoint, signer: NoteSigner, verifier: NoteVerifier
) -> None:
    note = sign_checkpoint(checkpoint, signer).replace("\n\n", "\n")

    with pytest.raises(CheckpointError) as caught:
        open_signed_checkpoint(note, verifier)

    assert _reason(caught) is CheckpointFailure.MALFORMED_NOTE


@pytest.mark.parametrize(
    "prefix",
    ["- ", "-- ", "\u2013 ", "\u2015 ", "\u2014", "\u2014  ", "\u2014\u00a0"],
    ids=["hyphen", "two-hyphens", "en-dash", "horizontal-bar", "no-space", "two-spaces", "nbsp"],
)
def test_given_wrong_dash_then_open_raises_malformed_note(
    checkpoint: Checkpoint, signer: NoteSigner, verifier: NoteVerifier, prefix: str
) -> None:
    """Only U+2014 EM DASH and one space start a signature line."""
    note = sign_checkpoint(checkpoint, signer).replace("\u2014 ", prefix)

    with pytest.raises(CheckpointError) as caught:
        open_signed_checkpoint(note, verifier)

    assert _reason(caught) is CheckpointFailure.MALFORMED_NOTE


@pytest.mark.parametrize(
    "encoded",
    ["", "AAAA", "not base64!", "x08go_ZJkuBS9UG_SffcvIAQxVBtiFupLLr8pAcElZI="],
    ids=["empty", "key-id-only-short", "not-base64", "urlsafe"],
)
def test_given_malformed_signature_encoding_then_open_raises_malformed_note(
    checkpoint: Checkpoint, verifier: NoteVerifier, encoded: str
) -> None:
    note = f"{checkpoint.body()}\n— {ORIGIN} {encoded}\n"

    with pytest.raises(CheckpointError) as caught:
        open_signed_checkpoint(note, verifier)

    assert _reason(caught) is CheckpointFailure.MALFORMED_NOTE


def test_given_validly_signed_note_that_is_not_a_checkpoint_then_open_raises_malformed_body(
    signer: NoteSigner, verifier: NoteVerifier
) -> None:
    note = sign_note(f"{ORIGIN}\nseven\nnot a hash\n", signer)

    with pytest.raises(CheckpointError) as caught:
        open_signed_checkpoint(note, verifier)

    assert _reason(caught) is CheckpointFailure.MALFORMED_BODY


@pytest.mark.parametrize("body", ["", "no final newline", "tab\there\n"])
def test_given_body_a_note_cannot_carry_then_sign_note_refuses_it(
    signer: NoteSigner, body: str
) -> None:
    with pytest.raises(CheckpointError) as caught:
        sign_note(body, signer)

    assert _reason(caught) is CheckpointFailure.MALFORMED_NOTE


def test_given_checkpoint_error_then_message_names_the_reason(
    checkpoint: Checkpoint, verifier: NoteVerifier
) -> None:
    note = sign_checkpoint(checkpoint, NoteSigner.from_seed("someone.else", OTHER_SEED))

    with pytest.raises(CheckpointError, match=r"^no signature by the trusted key: wardgate"):
        open_signed_checkpoint(note, verifier)
