"""Does standardizing the features speed up batch gradient descent for logistic regression?

Same synthetic data, same model, same step budget and the same learning rate; the only difference is whether the
features are standardized (zero mean, unit variance, statistics from the training split) before training.
"""
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

SEED = int(os.environ.get("SEED", "0"))  # the engine re-runs the best program with other seeds
N_SAMPLES = 2000
STEPS = 300
LEARNING_RATE = 0.1
TOLERANCE = 1e-2  # "converged" = training loss within this of the optimum

rng = np.random.default_rng(SEED)


def make_data(n):
    """Four informative features on very different scales, labels from a logistic model."""
    z = rng.standard_normal((n, 4))
    true_w = np.array([1.5, -2.0, 0.8, 0.5])
    logits = z @ true_w + 0.3
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logits))).astype(float)
    scale = np.array([1.0, 1000.0, 10.0, 0.01])
    shift = np.array([0.0, 0.0, 50.0, 3.0])
    return z * scale + shift, y


def add_bias(X):
    return np.hstack([np.ones((X.shape[0], 1)), X])


def init_weights(n_columns):
    return np.zeros(n_columns)  # the bias is the weight of the column of ones


def sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))  # no overflow for large |t|


def log_loss(w, X, y):
    t = X @ w
    return float(np.mean(np.logaddexp(0.0, t) - y * t))


def gradient(w, X, y):
    return X.T @ (sigmoid(X @ w) - y) / len(y)


def optimum(X, y, iterations=30):
    """Reference minimum of the training loss by Newton's method (the same for raw and standardized inputs)."""
    w = init_weights(X.shape[1])
    for _ in range(iterations):
        p = sigmoid(X @ w)
        hessian = (X * (p * (1 - p))[:, None]).T @ X / len(y) + 1e-10 * np.eye(X.shape[1])
        w -= np.linalg.solve(hessian, gradient(w, X, y))
    return log_loss(w, X, y)


def gradient_descent(X, y, lr, steps, label):
    w = init_weights(X.shape[1])
    losses = [log_loss(w, X, y)]
    for step in range(1, steps + 1):
        w -= lr * gradient(w, X, y)
        losses.append(log_loss(w, X, y))
        if step % 100 == 0:
            print(f"  {label}: step {step}, training loss {losses[-1]:.6f}")
    return w, np.array(losses)


def steps_to_tolerance(losses, best):
    """First step within TOLERANCE of the optimum; STEPS (the whole budget) when never reached."""
    reached = np.nonzero(losses - best <= TOLERANCE)[0]
    return int(reached[0]) if len(reached) else STEPS


def accuracy(w, X, y):
    return float(np.mean((X @ w > 0) == (y == 1)))


X, y = make_data(N_SAMPLES)
n_train = int(0.75 * N_SAMPLES)
X_train, y_train, X_test, y_test = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
print(f"data: {n_train} train / {N_SAMPLES - n_train} test, feature std = {np.round(X_train.std(axis=0), 3)}")

mean, std = X_train.mean(axis=0), X_train.std(axis=0)
settings = {
    "raw": (add_bias(X_train), add_bias(X_test)),
    "standardized": (add_bias((X_train - mean) / std), add_bias((X_test - mean) / std)),
}

best_loss = optimum(settings["standardized"][0], y_train)
print(f"optimal training loss (Newton): {best_loss:.6f}")

curves, weights = {}, {}
for name, (Xtr, _) in settings.items():
    print(f"training on {name} features, learning rate {LEARNING_RATE}")
    weights[name], curves[name] = gradient_descent(Xtr, y_train, LEARNING_RATE, STEPS, name)

results = {
    "final_loss_standardized": curves["standardized"][-1],
    "final_loss_raw": curves["raw"][-1],
    "steps_to_tol_standardized": steps_to_tolerance(curves["standardized"], best_loss),
    "steps_to_tol_raw": steps_to_tolerance(curves["raw"], best_loss),
    "test_accuracy_standardized": accuracy(weights["standardized"], settings["standardized"][1], y_test),
    "test_accuracy_raw": accuracy(weights["raw"], settings["raw"][1], y_test),
    "optimal_loss": best_loss,
    "learning_rate": LEARNING_RATE,
    "steps": STEPS,
}
print(json.dumps(results, indent=2))
with open("results.json", "w") as f:
    json.dump(results, f, indent=2)
print("wrote results.json")

fig, ax = plt.subplots(figsize=(6, 4))
for name, losses in curves.items():
    ax.plot(np.maximum(losses - best_loss, 1e-12), label=f"{name} features")
ax.axhline(TOLERANCE, color="gray", linestyle="--", linewidth=1, label="tolerance")
ax.set_yscale("log")
ax.set_xlabel("gradient-descent step")
ax.set_ylabel("training loss minus optimum")
ax.set_title(f"Batch gradient descent, learning rate {LEARNING_RATE}")
ax.legend()
fig.tight_layout()
fig.savefig("loss_curves.png", dpi=120)
print("saved loss_curves.png")
