"""Training: gradient estimators, train state and steps, the fit loop, pretraining."""
