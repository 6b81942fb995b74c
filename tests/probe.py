"""A multinomial logistic-regression probe (L2-regularised, fitted by L-BFGS in SciPy)."""

import numpy as np
from scipy import optimize, special


def probe_accuracy(train_x, train_y, test_x, test_y, l2=1e-2):
    """Test accuracy of logistic regression fitted on standardised training features."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    num_classes, dim = int(train_y.max()) + 1, train_x.shape[1]
    onehot = np.eye(num_classes)[train_y]

    def loss_and_grad(flat):
        w, b = flat[: dim * num_classes].reshape(dim, num_classes), flat[dim * num_classes :]
        logits = train_x @ w + b
        log_p = logits - special.logsumexp(logits, axis=1, keepdims=True)
        loss = -np.mean(np.sum(onehot * log_p, 1)) + 0.5 * l2 * np.sum(w**2)
        delta = (np.exp(log_p) - onehot) / len(train_x)
        return loss, np.concatenate([(train_x.T @ delta + l2 * w).ravel(), delta.sum(0)])

    start = np.zeros(dim * num_classes + num_classes)
    flat = optimize.minimize(loss_and_grad, start, jac=True, method="L-BFGS-B").x
    w, b = flat[: dim * num_classes].reshape(dim, num_classes), flat[dim * num_classes :]
    return float(np.mean(np.argmax(test_x @ w + b, 1) == test_y))
