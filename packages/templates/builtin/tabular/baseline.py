"""Baseline of the `tabular` template: standardized logistic regression on scikit-learn's bundled classification
datasets (they ship with the library: nothing is downloaded), scored by stratified 5-fold cross-validation.

Records in results.json the mean accuracy over the datasets (the primary metric, "accuracy"), the same per dataset,
and the macro F1. Every random choice is seeded from the SEED environment variable.
"""

import json
import os
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = int(os.environ.get("SEED", "0"))
FOLDS = 5

DATASETS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}


def make_model():
    """The model every dataset is scored with: change this to try another method."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=SEED))


def main():
    started = time.time()
    per_dataset = {}
    for name, load in DATASETS.items():
        X, y = load(return_X_y=True)
        folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
        scores = cross_validate(make_model(), X, y, cv=folds, scoring=("accuracy", "f1_macro"))
        per_dataset[name] = {
            "accuracy": float(np.mean(scores["test_accuracy"])),
            "accuracy_std": float(np.std(scores["test_accuracy"])),
            "f1_macro": float(np.mean(scores["test_f1_macro"])),
            "fit_seconds": float(np.mean(scores["fit_time"])),
        }
        print(f"{name}: {X.shape[0]} rows x {X.shape[1]} features, accuracy {per_dataset[name]['accuracy']:.4f}")

    results = {
        "accuracy": float(np.mean([d["accuracy"] for d in per_dataset.values()])),
        "f1_macro": float(np.mean([d["f1_macro"] for d in per_dataset.values()])),
        "datasets": per_dataset,
        "seconds": time.time() - started,
    }
    with open("results.json", "w") as f:
        json.dump(results, f, indent=2)
    print(f"mean accuracy over {len(per_dataset)} datasets: {results['accuracy']:.4f} (seed {SEED})")


if __name__ == "__main__":
    main()
