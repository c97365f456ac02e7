"""Customer records: controllers, governed read, write, lookup, erasure, bulk import."""
