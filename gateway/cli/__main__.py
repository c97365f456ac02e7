"""`python -m gateway.cli`: the same command line as the `wardgate` script."""

from gateway.cli.main import main

main()
