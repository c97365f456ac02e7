"""The Wardgate benchmark: what governance costs over a bare read (`python -m bench.run`)."""
