"""Pydantic models shared by every layer. Nothing here performs I/O."""
