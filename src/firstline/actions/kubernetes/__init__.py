"""Kubernetes remediation: the executor (`.executor`), its settings (`.settings`) and its
RBAC manifests (`.rbac`).

Nothing is imported here on purpose: firstline.wiring.settings imports `.settings`, and that
must not load the Kubernetes client and the executor into every process that reads its
settings."""
