"""Executors that carry out remediation actions, and the action catalog."""
