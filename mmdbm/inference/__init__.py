"""Inference: block Gibbs sampling and mean-field."""
