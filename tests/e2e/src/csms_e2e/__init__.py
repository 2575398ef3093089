"""Helpers to run the fleet as processes for end-to-end tests and benchmarks."""
