"""Fault suites: the store failing under a live gateway, kill -9, fuzzing. Each test is
bounded in requests and seconds; all are marked `fault` and run in `make test`."""
