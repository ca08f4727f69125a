"""The command line (`firstline ...`): `main` builds the app; one module per command group."""
