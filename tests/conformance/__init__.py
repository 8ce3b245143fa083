"""Conformance tests: golden-trace replay, the official clients, the schema oracle."""
