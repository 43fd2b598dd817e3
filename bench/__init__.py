"""Benchmarks of madoguchi parts against evaluation data kept outside the repository."""
