"""The pattern library: known incident shapes, each in its own module under library/."""
