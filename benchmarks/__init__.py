"""Benchmarks and checks run by hand or by `make bench`; a package so that `python -m benchmarks.reliability` runs."""
