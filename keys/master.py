"""The master key (KEK) and the purpose-bound subkeys derived from it.

The local provider keeps 32 random bytes in `<data dir>/master.key` (mode 0600) or
takes them base64-encoded from `WARDGATE_MASTER_KEY`. Subkeys for pseudonyms, cursors
and the like are derived with HKDF so that one leaked subkey does not expose another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys.errors import MasterKeyError

MASTER_KEY_BYTES = 32
MASTER_KEY_FILE = "master.key"
MASTER_KEY_ENV = "WARDGATE_MASTER_KEY"


class MasterKey:
    """Key material that never prints: repr shows only a short HMAC-derived key id."""

    __slots__ = ("_material",)

    def __init__(self, material: bytes) -> None:
        if len(material) != MASTER_KEY_BYTES:
            msg = f"a master key is {MASTER_KEY_BYTES} bytes"
            raise MasterKeyError(msg)
        self._material = material

    @property
    def key_id(self) -> str:
        return hmac.new(self._material, b"wardgate key id", hashlib.sha256).hexdigest()[:16]

    def derive(self, label: str, length: int = 32) -> bytes:
        """A subkey for one use, bound to `label` (e.g. ``"pseudonym/v1"``)."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label.encode("utf-8"))
        return hkdf.derive(self._material)

    def __repr__(self) -> str:
        return f"MasterKey(id={self.key_id}, material=***)"

    __str__ = __repr__


class KeyProvider(Protocol):
    """Where the master key comes from: a local file today, a KMS tomorrow."""

    def load(self) -> MasterKey: ...


class LocalKeyProvider:
    """Master key from the environment, else from a 0600 file in the data dir."""

    def __init__(self, data_dir: Path, environ: dict[str, str] | None = None) -> None:
        self.path = data_dir / MASTER_KEY_FILE
        self._environ = os.environ if environ is None else environ

    def __repr__(self) -> str:
        return f"LocalKeyProvider(path={self.path})"

    def create(self) -> MasterKey:
        """Create the key file if there is none; an existing key is never overwritten."""
        if self._environ.get(MASTER_KEY_ENV) or self.path.exists():
            return self.load()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        material = secrets.token_bytes(MASTER_KEY_BYTES)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(material) + b"\n")
        return MasterKey(material)

    def load(self) -> MasterKey:
        encoded = self._environ.get(MASTER_KEY_ENV)
        source = f"${MASTER_KEY_ENV}"
        if not encoded:
            source = str(self.path)
            try:
                encoded = self.path.read_text(encoding="ascii").strip()
            except FileNotFoundError:
                msg = (
                    f"no master key: {self.path} does not exist and {MASTER_KEY_ENV} is "
                    "not set (run `wardgate init` or restore the key)"
                )
                raise MasterKeyError(msg) from None
            except (OSError, UnicodeDecodeError):
                msg = f"master key file {self.path} cannot be read"
                raise MasterKeyError(msg) from None
        try:
            material = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            msg = f"master key from {source} is not valid base64"
            raise MasterKeyError(msg) from None
        if len(material) != MASTER_KEY_BYTES:
            msg = f"master key from {source} must decode to {MASTER_KEY_BYTES} bytes"
            raise MasterKeyError(msg)
        return MasterKey(material)
