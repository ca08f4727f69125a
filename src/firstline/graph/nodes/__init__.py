"""One small async module per stage. Each node takes (state, ctx), the run's GraphContext
(graph/context.py), and returns a partial update; `notes` in an update become timeline
entries (see graph/recording.py)."""
