"""PIPL consent records: controllers, service, store, facts for explanations, bulk import."""
