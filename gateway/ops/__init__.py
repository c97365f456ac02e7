"""Operator endpoints: liveness, readiness, and the bench-only bare routes."""
