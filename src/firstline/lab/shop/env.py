"""What a shop process is told by its pod's environment, and nothing else."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _optional(name: str) -> str | None:
    return os.environ.get(name) or None


def _optional_int(name: str) -> int | None:
    value = _optional(name)
    return int(value) if value is not None else None


@dataclass(frozen=True)
class ShopEnv:
    service: str
    port: int | None
    pod: str
    namespace: str
    release: str
    loki_url: str | None
    pg_dsn: str | None
    redis_url: str | None
    catalog_url: str | None
    checkout_url: str | None
    orders_url: str | None
    payments_url: str | None
    storefront_url: str | None
    tls_port: int | None
    # payments only: where its admin API stays reachable while its service port refuses
    admin_port: int | None
    certs_dir: Path | None

    @classmethod
    def read(cls, service: str) -> ShopEnv:
        certs = _optional("LAB_CERTS_DIR")
        return cls(
            service=service,
            port=_optional_int("PORT"),
            pod=os.environ.get("POD_NAME") or f"{service}-local",
            namespace=os.environ.get("POD_NAMESPACE") or "shop",
            release=os.environ.get("LAB_RELEASE") or "dev",
            loki_url=_optional("LAB_LOKI_URL"),
            pg_dsn=_optional("LAB_PG_DSN"),
            redis_url=_optional("LAB_REDIS_URL"),
            catalog_url=_optional("LAB_CATALOG_URL"),
            checkout_url=_optional("LAB_CHECKOUT_URL"),
            orders_url=_optional("LAB_ORDERS_URL"),
            payments_url=_optional("LAB_PAYMENTS_URL"),
            storefront_url=_optional("LAB_STOREFRONT_URL"),
            tls_port=_optional_int("LAB_TLS_PORT"),
            admin_port=_optional_int("LAB_ADMIN_PORT"),
            certs_dir=Path(certs) if certs else None,
        )

    def need(self, name: str) -> str:
        """A URL or DSN the service cannot work without."""
        value = getattr(self, name)
        if value is None:
            raise SystemExit(f"{self.service}: LAB_{name.upper()} is not set")
        return str(value)
