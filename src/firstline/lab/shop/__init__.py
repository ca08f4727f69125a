"""The lab's shop: small real services (storefront, catalog, checkout, orders, payments and two
workers), each one process run as `python -m firstline.lab.shop SERVICE`, configured only by
environment variables, with real fault switches at `POST /admin/faults/{name}`.

This package is "the production" firstline is asked to run, not firstline: it imports nothing
of firstline beyond itself (see docs/lab.md)."""
