"""Prompt templates (package data). Loaded by firstline.reasoning.llm.prompting; no code here."""
