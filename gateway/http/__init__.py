"""HTTP edges: the audit guard, RFC 9457 problems, gateway exceptions, dependency providers."""
