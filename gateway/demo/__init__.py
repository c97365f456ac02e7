"""Synthetic demo data: Chinese customers with valid-looking PII, generated offline."""

from gateway.demo.synthetic import (
    DEFAULT_SEED,
    CustomerBundle,
    DemoDataset,
    generate,
    iter_generate,
)

__all__ = ["DEFAULT_SEED", "CustomerBundle", "DemoDataset", "generate", "iter_generate"]
