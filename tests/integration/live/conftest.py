"""The live stack for the end-to-end test: the same real services the per-backend suites use
(Prometheus, Alertmanager, qryn on chdb: tests/integration/conftest.py) and kmock's emulator
for the Kubernetes API."""

from tests.integration.kubernetes.conftest import cluster  # noqa: F401 - fixture
