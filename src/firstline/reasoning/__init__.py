"""Reasoners propose hypotheses; they never act."""
