"""Benchmarks (see README.md). A package only so that `bench.settings` can be imported."""
