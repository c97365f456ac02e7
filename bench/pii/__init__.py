"""PII detection benchmark: accuracy on a labelled synthetic corpus, and throughput
(`python -m bench.pii`)."""
