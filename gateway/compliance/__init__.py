"""The audit log from the gateway's side: the one builder of entries, compliance reads."""
