"""Scores firstline on scenario bundles: accuracy, calibration and safety."""
