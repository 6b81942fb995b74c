"""Evaluation: exact enumeration for tiny models."""
