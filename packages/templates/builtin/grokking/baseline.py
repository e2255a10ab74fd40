"""Baseline of the `grokking` template: a one-layer transformer learns modular addition, (x + y) mod P, from half of
all pairs, trained full-batch with AdamW and strong weight decay. Training accuracy reaches 100% within a few hundred
steps; accuracy on the held-out pairs stays near 50% for a long while and then jumps to 100% ("grokking",
Power et al. 2022).

Records in results.json the step at which validation accuracy first reached 99% (the primary metric,
"steps_to_grok"; the step budget when it never did), when training accuracy got there, the final accuracies and
losses, and saves the learning curves as curves.png. Plain PyTorch (no einops). Seeded from SEED.
"""

import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = int(os.environ.get("SEED", "0"))
P = 47  # the modulus: P * P pairs (x, y)
TRAIN_FRACTION = 0.5
MAX_STEPS = 3000  # the step budget: a run that never groks still ends in about a minute on one CPU
EVAL_EVERY = 50
GROKKED = 0.99  # the accuracy that counts as learned
D_MODEL, HEADS = 64, 4
LR, WEIGHT_DECAY, WARMUP = 3e-3, 1.0, 10

torch.manual_seed(SEED)


class Block(nn.Module):
    """A pre-norm transformer block that computes only the last position (`=`), the one the answer is read from:
    with one layer nothing else is needed, and it is three times cheaper than computing every position."""

    def __init__(self, d_model, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.ReLU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        batch, seq, d = x.shape
        head = d // self.heads
        q, k, v = self.qkv(self.norm1(x)).split(d, dim=-1)
        q = q[:, -1:].reshape(batch, 1, self.heads, head).transpose(1, 2)
        k = k.reshape(batch, seq, self.heads, head).transpose(1, 2)
        v = v.reshape(batch, seq, self.heads, head).transpose(1, 2)
        attention = torch.softmax(q @ k.transpose(-1, -2) / head**0.5, dim=-1)
        y = x[:, -1] + self.proj((attention @ v).transpose(1, 2).reshape(batch, d))
        return y + self.mlp(self.norm2(y))


class Transformer(nn.Module):
    """Tokens `x y =` (token P is `=`), learned positions, one block, logits over the P residues."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(P + 1, D_MODEL)
        self.pos = nn.Parameter(torch.randn(3, D_MODEL) * 0.02)
        self.block = Block(D_MODEL, HEADS)
        self.norm = nn.LayerNorm(D_MODEL)
        self.out = nn.Linear(D_MODEL, P)

    def forward(self, tokens):
        return self.out(self.norm(self.block(self.embed(tokens) + self.pos)))


def dataset():
    x, y = torch.meshgrid(torch.arange(P), torch.arange(P), indexing="ij")
    x, y = x.flatten(), y.flatten()
    tokens = torch.stack([x, y, torch.full_like(x, P)], dim=1)
    labels = (x + y) % P
    order = torch.randperm(len(labels))
    cut = int(TRAIN_FRACTION * len(labels))
    return (tokens[order[:cut]], labels[order[:cut]]), (tokens[order[cut:]], labels[order[cut:]])


@torch.no_grad()
def evaluate(model, tokens, labels):
    logits = model(tokens)
    return F.cross_entropy(logits, labels).item(), (logits.argmax(-1) == labels).float().mean().item()


def main():
    started = time.time()
    (train_x, train_y), (val_x, val_y) = dataset()
    model = Transformer()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY, betas=(0.9, 0.98))
    # A short warm-up: full-batch AdamW at full step size from the first step is unstable.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / WARMUP))
    curve = {"step": [], "train_acc": [], "val_acc": []}
    steps_to_grok = steps_to_fit = None
    for step in range(1, MAX_STEPS + 1):
        model.train()
        loss = F.cross_entropy(model(train_x), train_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % EVAL_EVERY and step != MAX_STEPS:
            continue
        model.eval()
        train_loss, train_acc = evaluate(model, train_x, train_y)
        val_loss, val_acc = evaluate(model, val_x, val_y)
        curve["step"].append(step)
        curve["train_acc"].append(train_acc)
        curve["val_acc"].append(val_acc)
        if steps_to_fit is None and train_acc >= GROKKED:
            steps_to_fit = step
        if step % 250 == 0:
            print(f"step {step}: train acc {train_acc:.3f}, val acc {val_acc:.3f} ({time.time() - started:.0f} s)")
        if val_acc >= GROKKED:
            steps_to_grok = step
            print(f"step {step}: validation accuracy {val_acc:.3f}: grokked")
            break

    results = {
        "steps_to_grok": steps_to_grok or MAX_STEPS,
        "grokked": int(steps_to_grok is not None),
        "steps_to_fit": steps_to_fit or MAX_STEPS,
        "final_train_acc": train_acc,
        "final_val_acc": val_acc,
        "final_train_loss": train_loss,
        "final_val_loss": val_loss,
        "parameters": sum(p.numel() for p in model.parameters()),
        "seconds": time.time() - started,
    }
    with open("results.json", "w") as f:
        json.dump(results, f, indent=2)
    print(f"steps to grok: {results['steps_to_grok']} (train fitted at {results['steps_to_fit']}; seed {SEED})")

    import matplotlib.pyplot as plt

    plt.figure(figsize=(5, 3.2))
    plt.plot(curve["step"], curve["train_acc"], label="train")
    plt.plot(curve["step"], curve["val_acc"], label="validation")
    plt.xlabel("optimisation step")
    plt.ylabel("accuracy")
    plt.title(f"(x + y) mod {P}, {TRAIN_FRACTION:.0%} of the pairs for training")
    plt.legend()
    plt.tight_layout()
    plt.savefig("curves.png", dpi=120)


if __name__ == "__main__":
    main()
