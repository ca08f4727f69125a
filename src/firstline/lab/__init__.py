"""The live lab: a small real production on one machine for firstline to run (docs/lab.md)."""
