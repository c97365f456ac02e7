"""Bulk import: file sources (CSV, JSON Lines) and the two-pass, audited import job."""
