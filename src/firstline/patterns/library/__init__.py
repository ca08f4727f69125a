"""Built-in patterns, one per module. Each module exposes `PATTERN`."""
