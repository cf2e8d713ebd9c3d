"""Benchmarks of the session backends: `python -m benchmarks` (see benchmarks/README.md)."""
