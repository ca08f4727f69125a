"""What well-known alerts mean: a catalog of alert names and metrics that supplies a prior.

`prior_for(alert)` says what an alert usually means, which incident patterns it points at and
how strongly, which evidence is worth gathering and which labels name the broken thing. It is
a prior for the pattern scoring, never a gate. See docs/knowledge.md.
"""

from firstline.knowledge.catalog import (
    AlertKind,
    AlertPrior,
    Catalog,
    CatalogError,
    Strength,
    expression_of,
    load_catalog,
    prior_for,
)

__all__ = [
    "AlertKind",
    "AlertPrior",
    "Catalog",
    "CatalogError",
    "Strength",
    "expression_of",
    "load_catalog",
    "prior_for",
]
