"""The web console served by `firstline serve` at `/` (docs/console.md)."""
