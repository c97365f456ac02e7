"""Cipher suites: the algorithms a deployment encrypts fields and indexes with.

`aes256gcm` (AES-256-GCM, HMAC-SHA-256) is the default; `sm4gcm` (SM4-GCM, HMAC-SM3)
is the Chinese commercial-cryptography suite (GB/T 32907, GB/T 32905). Each suite has a
one-byte id carried in every ciphertext, so a store can hold both while migrating.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keys.errors import CiphertextIntegrityError, UnknownSuiteError

NONCE_BYTES = 12
SM4GCM_KEY_BYTES = 16
TAG_BYTES = 16


class KeyedAead(Protocol):
    """A suite's AEAD with its key schedule done once (reused for every field of a key).

    `open` raises CiphertextIntegrityError on any failure. `open_fast` is the same
    operation without a wrapper frame (a page calls it ~1,000 times): it raises one of
    `open_errors` instead, which a caller must treat as CiphertextIntegrityError."""

    open_errors: tuple[type[Exception], ...]

    @property
    def open_fast(self) -> Callable[[bytes, bytes, bytes], bytes]: ...

    def seal(self, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes: ...

    def open(self, nonce: bytes, sealed: bytes, aad: bytes) -> bytes: ...


class CipherSuite(Protocol):
    def keyed(self, key: bytes) -> KeyedAead: ...

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def key_bytes(self) -> int: ...

    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes: ...

    def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes: ...

    def mac(self, key: bytes, data: bytes) -> bytes: ...


class _AesGcmKeyed:
    __slots__ = ("_aead", "open_fast")

    # ValueError: a nonce cut short.
    open_errors: tuple[type[Exception], ...] = (InvalidTag, ValueError)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self.open_fast = self._aead.decrypt

    def seal(self, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return self._aead.encrypt(nonce, plaintext, aad)

    def open(self, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        try:
            return self._aead.decrypt(nonce, sealed, aad)
        except (InvalidTag, ValueError):  # ValueError: a nonce cut short
            raise CiphertextIntegrityError from None


class _Sm4GcmKeyed:
    """SM4-GCM has no one-shot AEAD object in `cryptography`: each field needs its own
    cipher context (~10 µs, most of a field's cost). What can be kept is kept: the
    key's algorithm object, validated once."""

    __slots__ = ("_algorithm", "_key", "open_fast")

    open_errors: tuple[type[Exception], ...] = (CiphertextIntegrityError,)

    def __init__(self, key: bytes) -> None:
        self._key = key
        # Every DataKey gets its keyed AEAD, also the 32-byte system keys that never use
        # it: a key SM4 refuses is refused on use, as before, not here.
        self._algorithm = algorithms.SM4(key) if len(key) == SM4GCM_KEY_BYTES else None
        self.open_fast = self.open

    def _cipher(self, mode: modes.GCM) -> Cipher[modes.GCM]:
        return Cipher(self._algorithm or algorithms.SM4(self._key), mode)

    def seal(self, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        encryptor = self._cipher(modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        sealed = encryptor.update(plaintext) + encryptor.finalize()
        return sealed + encryptor.tag

    def open(self, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        if len(sealed) < TAG_BYTES:
            raise CiphertextIntegrityError
        body, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
        try:
            decryptor = self._cipher(modes.GCM(nonce, tag)).decryptor()
        except ValueError:  # a nonce cut short
            raise CiphertextIntegrityError from None
        decryptor.authenticate_additional_data(aad)
        try:
            return decryptor.update(body) + decryptor.finalize()
        except InvalidTag:
            raise CiphertextIntegrityError from None


@dataclass(frozen=True, slots=True)
class Aes256Gcm:
    id: int = 1
    name: str = "aes256gcm"
    key_bytes: int = 32

    def keyed(self, key: bytes) -> KeyedAead:
        return _AesGcmKeyed(key)

    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return AESGCM(key).encrypt(nonce, plaintext, aad)

    def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        try:
            return AESGCM(key).decrypt(nonce, sealed, aad)
        except (InvalidTag, ValueError):  # ValueError: a nonce cut short
            raise CiphertextIntegrityError from None

    def mac(self, key: bytes, data: bytes) -> bytes:
        signer = hmac.HMAC(key, hashes.SHA256())
        signer.update(data)
        return signer.finalize()


@dataclass(frozen=True, slots=True)
class Sm4Gcm:
    id: int = 2
    name: str = "sm4gcm"
    key_bytes: int = SM4GCM_KEY_BYTES

    def keyed(self, key: bytes) -> KeyedAead:
        return _Sm4GcmKeyed(key)

    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return _Sm4GcmKeyed(key).seal(nonce, plaintext, aad)

    def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        return _Sm4GcmKeyed(key).open(nonce, sealed, aad)

    def mac(self, key: bytes, data: bytes) -> bytes:
        signer = hmac.HMAC(key, hashes.SM3())
        signer.update(data)
        return signer.finalize()


AES256GCM = Aes256Gcm()
SM4GCM = Sm4Gcm()
SUITES: dict[str, CipherSuite] = {AES256GCM.name: AES256GCM, SM4GCM.name: SM4GCM}
_BY_ID: dict[int, CipherSuite] = {suite.id: suite for suite in SUITES.values()}


def suite_named(name: str) -> CipherSuite:
    try:
        return SUITES[name]
    except KeyError:
        msg = f"unknown cipher suite {name!r}; choose one of {', '.join(SUITES)}"
        raise UnknownSuiteError(msg) from None


def suite_by_id(suite_id: int) -> CipherSuite:
    try:
        return _BY_ID[suite_id]
    except KeyError:
        raise CiphertextIntegrityError from None
