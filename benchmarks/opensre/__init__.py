"""The OpenSRE synthetic incidents as firstline scenario bundles (a benchmark, not a product
feature). `convert` turns each case into a bundle; `benchmarks/opensre.py` runs them."""
