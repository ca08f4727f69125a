"""Deterministic decision rules and the policy file that configures them."""
