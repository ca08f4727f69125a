"""One small async module per stage. Each node takes (state, deps) and returns a partial
update; `notes` in an update become timeline entries (see graph/recording.py)."""
