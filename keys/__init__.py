"""Key management and field encryption. Only this package imports `cryptography.hazmat`.

Hierarchy: the master key ring (KEK versions, outside the database) wraps per-customer
data keys (DEKs) and the system keys (blind index, pseudonym, cursor), which live in the
key store — a database separate from the customer store.
"""

from keys.blind_index import BlindIndexer
from keys.data_keys import DataKey
from keys.errors import (
    CiphertextIntegrityError,
    CryptoError,
    DataKeyMissingError,
    InvalidToken,
    MasterKeyError,
    UnknownSuiteError,
)
from keys.field_cipher import (
    UNREADABLE,
    FieldCipher,
    FieldContext,
    SealedField,
    aad_prefix,
    key_tag,
    sealed_fields,
    tag_version,
    token_key_version,
)
from keys.keyring import MASTER_KEY_ENV, KeyProvider, Keyring, LocalKeyProvider, MasterKey
from keys.keystore import KeyStatus, KeyStore, SystemKeys, kek_versions_in_use
from keys.sealing import Sealer
from keys.suites import AES256GCM, SM4GCM, SUITES, CipherSuite, suite_named

__all__ = [
    "AES256GCM",
    "MASTER_KEY_ENV",
    "SM4GCM",
    "SUITES",
    "UNREADABLE",
    "BlindIndexer",
    "CipherSuite",
    "CiphertextIntegrityError",
    "CryptoError",
    "DataKey",
    "DataKeyMissingError",
    "FieldCipher",
    "FieldContext",
    "InvalidToken",
    "KeyProvider",
    "KeyStatus",
    "KeyStore",
    "Keyring",
    "LocalKeyProvider",
    "MasterKey",
    "MasterKeyError",
    "SealedField",
    "Sealer",
    "SystemKeys",
    "UnknownSuiteError",
    "aad_prefix",
    "kek_versions_in_use",
    "key_tag",
    "sealed_fields",
    "suite_named",
    "tag_version",
    "token_key_version",
]
