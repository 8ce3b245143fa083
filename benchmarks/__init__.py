"""Benchmarks: figures printed as ratios against a baseline measured in the same run.

Run all with ``make bench`` (``python -m benchmarks``) or one with
``python -m benchmarks.bench_mock``. Nothing here asserts on time; targets are printed beside the
figures so a reader can compare.
"""
