"""Ablation of the conditioning study: standardization without its centring step.

The same program as the study of raw, standardized and min-max-scaled features (each at its own best learning rate
from the same grid, with the condition number of the Hessian at the optimum), with exactly one component removed:
the "standardized" setting divides every feature by its training-set standard deviation but no longer subtracts the
mean. All keys keep their names, so final_loss_standardized, steps_to_tol_standardized and cond_standardized now
describe scaled-but-uncentred features and can be compared with the full program. Scaling without centring is still
an invertible linear map of the inputs, and the model has a bias, so the optimal training loss does not change.
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
# The same grid for every setting: 1e-8, 3e-8, ..., 3, 10 (parsed from text so the values print exactly).
LEARNING_RATES = [float(f"{m}e{e}") for e in range(-8, 1) for m in (1, 3)] + [10.0]
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


def sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))  # no overflow for large |t|


def log_loss(w, X, y):
    t = X @ w
    return float(np.mean(np.logaddexp(0.0, t) - y * t))


def gradient(w, X, y):
    return X.T @ (sigmoid(X @ w) - y) / len(y)


def hessian(X, p):
    """Hessian of the mean log-loss for the design X at predicted probabilities p."""
    return (X * (p * (1 - p))[:, None]).T @ X / len(p)


def newton(X, y, iterations=30):
    """The minimizer of the training loss by Newton's method (on a well-conditioned design)."""
    w = np.zeros(X.shape[1])
    for _ in range(iterations):
        w -= np.linalg.solve(hessian(X, sigmoid(X @ w)) + 1e-10 * np.eye(X.shape[1]), gradient(w, X, y))
    return w


def gradient_descent(X, y, lr, steps):
    w = np.zeros(X.shape[1])
    losses = [log_loss(w, X, y)]
    for _ in range(steps):
        w -= lr * gradient(w, X, y)
        losses.append(log_loss(w, X, y))
    return w, np.array(losses)


def tune(X, y, label):
    """Runs the whole budget for every learning rate; keeps the one with the lowest final training loss."""
    finals, best = [], None
    for lr in LEARNING_RATES:
        w, losses = gradient_descent(X, y, lr, STEPS)
        final = losses[-1] if np.isfinite(losses[-1]) else np.inf
        finals.append(final)
        if best is None or final < best[2][-1]:
            best = (lr, w, losses)
    print(f"  {label}: best learning rate {best[0]:.0e} of {len(LEARNING_RATES)}, final loss {best[2][-1]:.6f}")
    return best, np.array(finals)


def steps_to_tolerance(losses, best):
    """First step within TOLERANCE of the optimum; STEPS (the whole budget) when never reached."""
    reached = np.nonzero(losses - best <= TOLERANCE)[0]
    return int(reached[0]) if len(reached) else STEPS


def accuracy(w, X, y):
    return float(np.mean((X @ w > 0) == (y == 1)))


X, y = make_data(N_SAMPLES)
n_train = int(0.75 * N_SAMPLES)
X_train, y_train, X_test, y_test = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
print(f"data (seed {SEED}): {n_train} train / {N_SAMPLES - n_train} test, feature std = {np.round(X_train.std(axis=0), 3)}")

# Every statistic comes from the training split.
mean, std = X_train.mean(axis=0), X_train.std(axis=0)
low, high = X_train.min(axis=0), X_train.max(axis=0)
PREPROCESSING = {
    "raw": lambda A: A,
    "standardized": lambda A: A / std,  # ABLATION: scaled by the standard deviation, no longer centred
    "minmax": lambda A: (A - low) / (high - low),
}
settings = {name: (add_bias(f(X_train)), add_bias(f(X_test))) for name, f in PREPROCESSING.items()}

# One optimum for all settings (Newton's method on the scaled design); the optimal probabilities are the same in every
# parametrization, so they give the Hessian at the optimum of each setting.
w_opt = newton(settings["standardized"][0], y_train)
best_loss = log_loss(w_opt, settings["standardized"][0], y_train)
p_opt = sigmoid(settings["standardized"][0] @ w_opt)
print(f"optimal training loss (Newton): {best_loss:.6f}")

conditioning = {}
for name, (Xtr, _) in settings.items():
    eigenvalues = np.linalg.eigvalsh(hessian(Xtr, p_opt))
    conditioning[name] = (eigenvalues[-1] / eigenvalues[0], 2.0 / eigenvalues[-1])
    print(
        f"{name}: Hessian eigenvalues at the optimum from {eigenvalues[0]:.3e} to {eigenvalues[-1]:.3e}, "
        f"condition number {conditioning[name][0]:.3e}, stable learning rates below {conditioning[name][1]:.3e}"
    )

chosen, sweeps = {}, {}
with np.errstate(over="ignore", invalid="ignore"):  # the largest rates diverge on purpose
    print(f"learning-rate sweeps ({len(LEARNING_RATES)} rates, {STEPS} steps each)")
    for name, (Xtr, _) in settings.items():
        chosen[name], sweeps[name] = tune(Xtr, y_train, name)

steps = {name: steps_to_tolerance(chosen[name][2], best_loss) for name in settings}
for name in settings:
    reached = f"within {TOLERANCE} of the optimum after {steps[name]} steps" if steps[name] < STEPS else "never within tolerance"
    print(f"{name}: {reached}; condition number {conditioning[name][0]:.3e}")

results = {
    "final_loss_standardized": chosen["standardized"][2][-1],
    "final_loss_raw": chosen["raw"][2][-1],
    "steps_to_tol_standardized": steps["standardized"],
    "steps_to_tol_raw": steps["raw"],
    "test_accuracy_standardized": accuracy(chosen["standardized"][1], settings["standardized"][1], y_test),
    "test_accuracy_raw": accuracy(chosen["raw"][1], settings["raw"][1], y_test),
    "optimal_loss": best_loss,
    "best_lr_standardized": chosen["standardized"][0],
    "best_lr_raw": chosen["raw"][0],
    "steps": STEPS,
    "final_loss_minmax": chosen["minmax"][2][-1],
    "steps_to_tol_minmax": steps["minmax"],
    "test_accuracy_minmax": accuracy(chosen["minmax"][1], settings["minmax"][1], y_test),
    "best_lr_minmax": chosen["minmax"][0],
    "cond_raw": conditioning["raw"][0],
    "cond_standardized": conditioning["standardized"][0],
    "cond_minmax": conditioning["minmax"][0],
    "lr_limit_raw": conditioning["raw"][1],
    "lr_limit_standardized": conditioning["standardized"][1],
    "lr_limit_minmax": conditioning["minmax"][1],
}
print(json.dumps(results, indent=2))
with open("results.json", "w") as f:
    json.dump(results, f, indent=2)
print("wrote results.json")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for name, (lr, _, losses) in chosen.items():
    left.plot(np.maximum(losses - best_loss, 1e-12), label=f"{name} (lr {lr:.0e}, cond {conditioning[name][0]:.1e})")
left.axhline(TOLERANCE, color="gray", linestyle="--", linewidth=1, label="tolerance")
left.set_yscale("log")
left.set_xlabel("gradient-descent step")
left.set_ylabel("training loss minus optimum")
left.set_title("Each preprocessing at its best learning rate")
left.legend(fontsize=8)
for name, finals in sweeps.items():
    excess = np.where(np.isfinite(finals), np.maximum(finals - best_loss, 1e-12), np.nan)
    line = right.plot(LEARNING_RATES, excess, marker="o", label=f"{name}")[0]
    right.axvline(conditioning[name][1], color=line.get_color(), linestyle=":", linewidth=1)
right.set_xscale("log")
right.set_yscale("log")
right.set_xlabel("learning rate (dotted: 2 / largest Hessian eigenvalue)")
right.set_ylabel(f"training loss minus optimum after {STEPS} steps")
right.set_title("Learning-rate sweep")
right.legend(fontsize=8)
fig.tight_layout()
fig.savefig("loss_curves.png", dpi=120)
print("saved loss_curves.png")
