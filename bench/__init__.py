"""Benchmarks; run with ``./dev bench``. Results go to ``bench/results/``."""
