"""Concrete strategies shipped with Parity."""
