"""How firstline reaches a Kubernetes cluster: one connection model and one configuration
error, shared by the read-only evidence source and the executor (which must not import
each other). `settings` is plain pydantic; `connection` imports the official client."""
