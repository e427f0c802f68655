"""Realistic synthetic contacts for the demo database, tests and benchmarks."""
