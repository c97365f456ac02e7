"""PII detection in the gateway: the shared detector, the scan endpoint, data discovery."""
