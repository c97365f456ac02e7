"""Dual control for bulk export (`/v1/approvals/...`): an export request, a decision by
a different principal with `approve_export`, and a single-use, time-limited token bound
to the SHA-256 of the exact scope; reads past a purpose's daily threshold need one."""
