"""Signals: the facts extracted once from raw evidence, typed by family (see
firstline.domain.signal)."""
