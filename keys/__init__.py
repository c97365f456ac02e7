"""Key management. Only this package imports `cryptography.hazmat`."""

from keys.errors import InvalidToken, MasterKeyError
from keys.master import MASTER_KEY_ENV, KeyProvider, LocalKeyProvider, MasterKey
from keys.sealing import Sealer

__all__ = [
    "MASTER_KEY_ENV",
    "InvalidToken",
    "KeyProvider",
    "LocalKeyProvider",
    "MasterKey",
    "MasterKeyError",
    "Sealer",
]
