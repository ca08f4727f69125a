"""Evidence sources: one module per backend, each a plain typed client plus an adapter."""
