"""Field protection on top of keys/: encrypt and reveal records, key operations on a live store."""
