"""Domain exceptions of the key layer. Messages never carry key material or plaintext."""

from __future__ import annotations


class CryptoError(Exception):
    """Base class of the key layer's errors (keys, ciphertexts, sealed tokens, signing)."""


class MasterKeyError(CryptoError):
    """The master key is missing, unreadable, malformed or does not open this store."""


class InvalidToken(CryptoError):
    """A sealed token failed to open: tampered, truncated or sealed under another key."""


class CiphertextIntegrityError(CryptoError):
    """A ciphertext failed to decrypt: tampered, moved to another row or field, or its
    key is gone. One opaque error for every cause, as Fernet's InvalidToken."""

    def __init__(self, msg: str = "ciphertext failed its integrity check") -> None:
        super().__init__(msg)


class UnknownSuiteError(CryptoError):
    """A cipher suite name that Wardgate does not implement."""


class DataKeyMissingError(CryptoError):
    """The data key a ciphertext needs does not exist (erased, or never created)."""
