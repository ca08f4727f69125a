"""Log analysis with no I/O: lines clustered into templates, and a sample that shows every
kind of line."""

from firstline.logs.clustering import cluster
from firstline.logs.sampling import sample

__all__ = ["cluster", "sample"]
