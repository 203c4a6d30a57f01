"""Bench-only Django settings and URLs for the case benchmarks (never used by the product)."""
