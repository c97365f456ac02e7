"""Signed checkpoints of the audit log: its Merkle tree head, as a c2sp.org/tlog-checkpoint.

What is published: the log's origin, its size and its RFC 6962 root hash, signed as a
c2sp.org/signed-note, so an auditor holding our verifier key can pin a tree head and
later demand consistency proofs against it. No entry content is in a checkpoint.

    wardgate.example/audit
    1234
    <base64 root hash>

    — wardgate.example/audit <base64(key id ‖ Ed25519 signature)>
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn

from keys.signing import NoteSigner, NoteVerifier, is_valid_key_name

ROOT_HASH_BYTES = 32  # SHA-256, RFC 6962
MAX_TREE_SIZE = 2**64 - 1
# The spec asks verifiers to accept at least 16; sumdb/note stops at 100.
MAX_SIGNATURES = 100

_SIG_PREFIX = "— "  # U+2014 EM DASH, space
_KEY_ID_BYTES = 4
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*", re.ASCII)


class CheckpointFailure(StrEnum):
    MALFORMED_NOTE = "malformed note"
    NOT_SIGNED = "no signature by the trusted key"
    BAD_SIGNATURE = "invalid signature"
    MALFORMED_BODY = "malformed checkpoint body"


class CheckpointError(Exception):
    """A checkpoint or signed note that must not be trusted; `reason` says why."""

    def __init__(self, reason: CheckpointFailure, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    # Opaque extra body lines; the spec allows them, Wardgate emits none.
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or not _is_plain_line(self.origin):
            _malformed_body("origin must be one non-empty line without control characters")
        if isinstance(self.tree_size, bool) or not isinstance(self.tree_size, int):
            _malformed_body("tree size must be an integer")
        if not 0 <= self.tree_size <= MAX_TREE_SIZE:
            _malformed_body("tree size must be between 0 and 2**64 - 1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != ROOT_HASH_BYTES:
            _malformed_body(f"root hash must be {ROOT_HASH_BYTES} bytes")
        if any(not line or not _is_plain_line(line) for line in self.extensions):
            _malformed_body("extension lines must be non-empty, without control characters")

    def body(self) -> str:
        """The note text: origin, size, base64 root, then any extension lines."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        lines = (self.origin, str(self.tree_size), root, *self.extensions)
        return "".join(f"{line}\n" for line in lines)


def parse_body(text: str) -> Checkpoint:
    """Parse a checkpoint body exactly as tlog-checkpoint writes it."""
    if not text.endswith("\n"):
        _malformed_body("it must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        _malformed_body("want origin, tree size and root hash lines")
    origin, size, root, *extensions = lines
    if not _TREE_SIZE.fullmatch(size):
        _malformed_body("tree size must be decimal without sign or leading zeros")
    if len(size) > len(str(MAX_TREE_SIZE)):
        _malformed_body("tree size must be between 0 and 2**64 - 1")
    root_hash = _strict_b64decode(root)
    if root_hash is None:
        _malformed_body("root hash is not canonical padded base64")
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes  # without the key id


def sign_note(body: str, signer: NoteSigner) -> str:
    """The signed note: body, a blank line, then the signer's signature line."""
    _check_note_chars(body)
    if not body.endswith("\n"):
        _malformed_note("the text must end in a newline")
    return f"{body}\n{signature_line(body, signer)}"


def signature_line(body: str, signer: NoteSigner) -> str:
    """One `— <name> <base64(key id ‖ signature)>` line, for cosigning an existing note."""
    signed = signer.key_id + signer.sign(body.encode("utf-8"))
    return f"{_SIG_PREFIX}{signer.name} {base64.b64encode(signed).decode('ascii')}\n"


def parse_note(text: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines; no signature is checked."""
    _check_note_chars(text)
    # The text may hold blank lines; the signatures start after the last one.
    split = text.rfind("\n\n")
    if split < 0:
        _malformed_note("no blank line before the signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block.endswith("\n"):
        _malformed_note("the signature block must be non-empty and end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        _malformed_note(f"more than {MAX_SIGNATURES} signatures")
    return body, [_parse_signature_line(line) for line in lines]


def open_note(text: str, verifier: NoteVerifier) -> str:
    """The note's text, once every signature line by the verifier's key checks out."""
    body, signatures = parse_note(text)
    # Lines by other keys are ignored, even when they share our name or our key id.
    ours = [s for s in signatures if (s.name, s.key_id) == (verifier.name, verifier.key_id)]
    key = f"{verifier.name}+{verifier.key_id.hex()}"
    if not ours:
        raise CheckpointError(CheckpointFailure.NOT_SIGNED, key)
    message = body.encode("utf-8")
    if not all(verifier.verify(message, s.signature) for s in ours):
        raise CheckpointError(CheckpointFailure.BAD_SIGNATURE, key)
    return body


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    return sign_note(checkpoint.body(), signer)


def open_signed_checkpoint(note_text: str, verifier: NoteVerifier) -> Checkpoint:
    """Verify a signed checkpoint against one trusted key, then parse its body."""
    return parse_body(open_note(note_text, verifier))


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIG_PREFIX):
        _malformed_note("a signature line must start with an em dash and a space")
    name, _, encoded = line[len(_SIG_PREFIX) :].partition(" ")
    if not is_valid_key_name(name):
        _malformed_note("invalid key name in a signature line")
    raw = _strict_b64decode(encoded)
    if raw is None or len(raw) <= _KEY_ID_BYTES:
        _malformed_note("a signature must be canonical base64 of a key id and signature")
    return NoteSignature(name, raw[:_KEY_ID_BYTES], raw[_KEY_ID_BYTES:])


def _check_note_chars(text: str) -> None:
    """signed-note: valid UTF-8, and no ASCII control character other than newline."""
    if not _is_utf8(text) or any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        _malformed_note("not UTF-8, or a control character other than newline")


def _is_plain_line(line: str) -> bool:
    return _is_utf8(line) and not any(ord(ch) < 0x20 for ch in line)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def _strict_b64decode(text: str) -> bytes | None:
    """Standard padded base64 in its one canonical spelling, else None."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def _malformed_note(detail: str) -> NoReturn:
    raise CheckpointError(CheckpointFailure.MALFORMED_NOTE, detail)


def _malformed_body(detail: str) -> NoReturn:
    raise CheckpointError(CheckpointFailure.MALFORMED_BODY, detail)
