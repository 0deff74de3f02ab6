"""Benchmarks: each measures a figure and a baseline in the same process and reports their ratio."""
