"""Baseline of the `diffusion-2d` template: a denoising diffusion probabilistic model (DDPM, Ho et al. 2020) learns
four synthetic 2-D point clouds (two moons, two rings, a ring of eight Gaussians, a spiral), generated here with
NumPy: nothing is downloaded. The noise predictor is a small MLP with a sinusoidal embedding of the time step.

Records in results.json the energy distance between 2,000 generated points and 2,000 fresh points of each cloud
(0 for identical distributions), averaged over the clouds (the primary metric, "energy_distance"); the same distance
between two fresh samples of the data (what sampling noise alone gives); and saves the samples as samples.png.
Every random choice is seeded from SEED.
"""

import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = int(os.environ.get("SEED", "0"))
T = 100  # diffusion steps
STEPS = 2000  # training steps per cloud
BATCH = 256
HIDDEN = 128
LR = 1e-3
EVAL_POINTS = 2000

torch.manual_seed(SEED)
rng = np.random.default_rng(SEED)


def moons(n):
    t = rng.uniform(0, math.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    return np.stack([x - 0.5, y - 0.25], 1) * 1.5 + rng.normal(0, 0.05, (n, 2))


def rings(n):
    t = rng.uniform(0, 2 * math.pi, n)
    radius = np.where(rng.random(n) < 0.5, 0.5, 1.0)
    return np.stack([np.cos(t), np.sin(t)], 1) * radius[:, None] * 1.5 + rng.normal(0, 0.04, (n, 2))


def gaussians(n):
    angle = rng.integers(0, 8, n) * (2 * math.pi / 8)
    return np.stack([np.cos(angle), np.sin(angle)], 1) * 1.5 + rng.normal(0, 0.1, (n, 2))


def spiral(n):
    t = np.sqrt(rng.random(n)) * 3 * math.pi
    return np.stack([t * np.cos(t), t * np.sin(t)], 1) / (3 * math.pi) * 1.8 + rng.normal(0, 0.03, (n, 2))


CLOUDS = {"moons": moons, "rings": rings, "gaussians": gaussians, "spiral": spiral}


class Denoiser(nn.Module):
    """Predicts the noise in x_t from x_t and t."""

    def __init__(self, hidden=HIDDEN, embedding=32):
        super().__init__()
        self.embedding = embedding
        self.net = nn.Sequential(
            nn.Linear(2 + embedding, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 2),
        )

    def time_embedding(self, t):
        half = self.embedding // 2
        freqs = torch.exp(-math.log(1000.0) * torch.arange(half) / half)
        angles = t.float()[:, None] * freqs[None] * (1000.0 / T)
        return torch.cat([torch.sin(angles), torch.cos(angles)], 1)

    def forward(self, x, t):
        return self.net(torch.cat([x, self.time_embedding(t)], 1))


betas = torch.linspace(1e-4, 0.02 * 1000 / T, T)  # the linear schedule of Ho et al., rescaled to T steps
alphas = 1 - betas
alpha_bars = torch.cumprod(alphas, 0)


def train(data):
    model = Denoiser()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    for _ in range(STEPS):
        x0 = data[torch.randint(0, len(data), (BATCH,))]
        t = torch.randint(0, T, (BATCH,))
        noise = torch.randn_like(x0)
        a = alpha_bars[t][:, None]
        loss = F.mse_loss(model(a.sqrt() * x0 + (1 - a).sqrt() * noise, t), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, loss.item()


@torch.no_grad()
def sample(model, n):
    x = torch.randn(n, 2)
    for t in reversed(range(T)):
        step = torch.full((n,), t)
        eps = model(x, step)
        x = (x - betas[t] / (1 - alpha_bars[t]).sqrt() * eps) / alphas[t].sqrt()
        if t > 0:
            x = x + betas[t].sqrt() * torch.randn_like(x)
    return x


def energy_distance(a, b):
    """2 E|A-B| - E|A-A'| - E|B-B'|: zero exactly when the two distributions are equal."""
    a, b = torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
    return (2 * torch.cdist(a, b).mean() - torch.cdist(a, a).mean() - torch.cdist(b, b).mean()).item()


def main():
    started = time.time()
    per_cloud, samples = {}, {}
    for name, make in CLOUDS.items():
        data = torch.tensor(make(20000), dtype=torch.float32)
        model, final_loss = train(data)
        generated = sample(model, EVAL_POINTS)
        fresh, other = make(EVAL_POINTS), make(EVAL_POINTS)
        per_cloud[name] = {
            "energy_distance": energy_distance(generated, fresh),
            "noise_floor": energy_distance(other, fresh),
            "train_loss": final_loss,
        }
        samples[name] = (generated.numpy(), fresh)
        print(f"{name}: energy distance {per_cloud[name]['energy_distance']:.4f} ({time.time() - started:.0f} s)")

    results = {
        "energy_distance": float(np.mean([c["energy_distance"] for c in per_cloud.values()])),
        "noise_floor": float(np.mean([c["noise_floor"] for c in per_cloud.values()])),
        "clouds": per_cloud,
        "seconds": time.time() - started,
    }
    with open("results.json", "w") as f:
        json.dump(results, f, indent=2)
    print(f"mean energy distance: {results['energy_distance']:.4f} (noise floor {results['noise_floor']:.4f})")

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(samples), figsize=(3 * len(samples), 3))
    for ax, (name, (generated, fresh)) in zip(axes, samples.items()):
        ax.scatter(fresh[:, 0], fresh[:, 1], s=1, alpha=0.3, label="data")
        ax.scatter(generated[:, 0], generated[:, 1], s=1, alpha=0.3, label="generated")
        ax.set_title(name)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].legend(markerscale=8, loc="lower left", fontsize=7)
    fig.tight_layout()
    fig.savefig("samples.png", dpi=110)


if __name__ == "__main__":
    main()
