"""Evaluation: exact enumeration, AIS, log-likelihoods and the papers' metrics."""
