"""The master key ring: versions of the key-encryption key (KEK).

Only the KEK lives outside the database. It wraps the data keys and the system keys
stored in the key store; rotating it re-wraps those and touches no data. The local
provider keeps the ring in `<data dir>/master.key` (JSON, mode 0600) or takes it from
`WARDGATE_MASTER_KEY` (the same JSON, or one base64 key meaning version 1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from keys.errors import MasterKeyError

KEK_BYTES = 32
MASTER_KEY_FILE = "master.key"
MASTER_KEY_ENV = "WARDGATE_MASTER_KEY"


class MasterKey:
    """One KEK version. Its material never prints: repr shows an HMAC-derived key id."""

    __slots__ = ("_material", "version")

    def __init__(self, material: bytes, version: int = 1) -> None:
        if len(material) != KEK_BYTES:
            msg = f"a master key is {KEK_BYTES} bytes"
            raise MasterKeyError(msg)
        self._material = material
        self.version = version

    @property
    def key_id(self) -> str:
        return hmac.new(self._material, b"wardgate key id", hashlib.sha256).hexdigest()[:16]

    @property
    def material(self) -> bytes:
        return self._material

    def __repr__(self) -> str:
        return f"MasterKey(version={self.version}, id={self.key_id}, material=***)"

    __str__ = __repr__


class Keyring:
    """KEK versions by number; new wraps use the active one, unwraps any present one."""

    __slots__ = ("_keys", "active_version")

    def __init__(self, keys: Mapping[int, MasterKey], active_version: int) -> None:
        if active_version not in keys:
            msg = f"the active master key version {active_version} is not in the key ring"
            raise MasterKeyError(msg)
        self._keys = dict(keys)
        self.active_version = active_version

    @property
    def active(self) -> MasterKey:
        return self._keys[self.active_version]

    @property
    def versions(self) -> tuple[int, ...]:
        return tuple(sorted(self._keys))

    def get(self, version: int) -> MasterKey | None:
        return self._keys.get(version)

    def with_new_version(self) -> Keyring:
        version = max(self._keys) + 1
        keys = dict(self._keys)
        keys[version] = MasterKey(secrets.token_bytes(KEK_BYTES), version)
        return Keyring(keys, version)

    def without_version(self, version: int) -> Keyring:
        if version == self.active_version:
            msg = "the active master key version cannot be retired"
            raise MasterKeyError(msg)
        return Keyring({v: k for v, k in self._keys.items() if v != version}, self.active_version)

    def to_json(self) -> str:
        return json.dumps(
            {
                "active": self.active_version,
                "keys": {
                    str(v): base64.b64encode(k.material).decode() for v, k in self._keys.items()
                },
            }
        )

    def __repr__(self) -> str:
        return f"Keyring(active={self.active_version}, versions={list(self.versions)}, keys=***)"


def _decode_key(encoded: str, source: str, version: int) -> MasterKey:
    try:
        material = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        msg = f"master key from {source} is not valid base64"
        raise MasterKeyError(msg) from None
    if len(material) != KEK_BYTES:
        msg = f"master key from {source} must decode to {KEK_BYTES} bytes"
        raise MasterKeyError(msg)
    return MasterKey(material, version)


def parse_keyring(text: str, source: str) -> Keyring:
    text = text.strip()
    if not text.startswith("{"):
        return Keyring({1: _decode_key(text, source, 1)}, 1)
    try:
        document = json.loads(text)
        active = int(document["active"])
        raw_keys = document["keys"]
        keys = {int(v): _decode_key(str(k), source, int(v)) for v, k in raw_keys.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        msg = f"master key ring from {source} is malformed"
        raise MasterKeyError(msg) from None
    return Keyring(keys, active)


class KeyProvider(Protocol):
    """Where the KEK ring comes from: a local file today, a KMS tomorrow."""

    def load(self) -> Keyring: ...

    def save(self, keyring: Keyring) -> None: ...


class LocalKeyProvider:
    """The key ring from the environment, else from a 0600 file in the data dir."""

    def __init__(self, data_dir: Path, environ: Mapping[str, str] | None = None) -> None:
        self.path = data_dir / MASTER_KEY_FILE
        self._environ = os.environ if environ is None else environ

    def __repr__(self) -> str:
        return f"LocalKeyProvider(path={self.path})"

    @property
    def from_environment(self) -> bool:
        return bool(self._environ.get(MASTER_KEY_ENV))

    def create(self) -> Keyring:
        """Create the key file if there is none; an existing key is never overwritten."""
        if self.from_environment or self.path.exists():
            return self.load()
        keyring = Keyring({1: MasterKey(secrets.token_bytes(KEK_BYTES), 1)}, 1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(keyring.to_json() + "\n")
        return keyring

    def save(self, keyring: Keyring) -> None:
        """Replace the key file atomically (write a 0600 temporary, then rename)."""
        if self.from_environment:
            msg = f"the key ring comes from ${MASTER_KEY_ENV}; update it there"
            raise MasterKeyError(msg)
        # mkstemp creates a fresh 0600 file: a leftover temporary with looser mode
        # can never become the key file.
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=".master.", suffix=".tmp")
        temporary = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(keyring.to_json() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def load(self) -> Keyring:
        encoded = self._environ.get(MASTER_KEY_ENV)
        if encoded:
            return parse_keyring(encoded, f"${MASTER_KEY_ENV}")
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            msg = (
                f"no master key: {self.path} does not exist and {MASTER_KEY_ENV} is "
                "not set (run `wardgate init` or restore the key)"
            )
            raise MasterKeyError(msg) from None
        except (OSError, UnicodeDecodeError):
            msg = f"master key file {self.path} cannot be read"
            raise MasterKeyError(msg) from None
        return parse_keyring(text, str(self.path))
