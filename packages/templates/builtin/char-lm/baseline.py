"""Baseline of the `char-lm` template: a small causal transformer learns to predict the next character of the
fortune-cookie corpus that Debian's `fortunes` package installs in the sandbox image (/usr/share/games/fortunes;
nothing is downloaded). The fortunes are split into training and validation sets, whole fortunes at a time.

Records in results.json the validation loss in bits per character (the primary metric, "val_bpc"), the training
loss at the end, the corpus and model sizes, and writes a sample of generated text to sample.txt. Every random choice
is seeded from SEED.
"""

import json
import math
import os
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = int(os.environ.get("SEED", "0"))
CORPUS = "/usr/share/games/fortunes"
VAL_FRACTION = 0.05
CONTEXT = 64  # characters the model sees
D_MODEL, HEADS, LAYERS = 64, 4, 2
BATCH = 32
STEPS = 1000
LR = 3e-3
EVAL_CHARS = 65536  # validation characters scored (the same for every run with the same SEED)
MIN_COUNT = 20  # rarer characters share one "unknown" symbol

random.seed(SEED)
torch.manual_seed(SEED)


def load_fortunes():
    """Every fortune of every file (the .dat indexes and the .u8 links to the same files are skipped)."""
    fortunes = []
    for name in sorted(os.listdir(CORPUS)):
        path = os.path.join(CORPUS, name)
        if name.endswith(".dat") or os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        fortunes += [part.strip("\n") + "\n" for part in text.split("\n%\n") if part.strip()]
    return fortunes


def encode(text, index, unknown):
    return torch.tensor([index.get(c, unknown) for c in text], dtype=torch.long)


class CharTransformer(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embed = nn.Embedding(vocab, D_MODEL)
        self.pos = nn.Parameter(torch.randn(CONTEXT, D_MODEL) * 0.02)
        layer = nn.TransformerEncoderLayer(
            D_MODEL, HEADS, dim_feedforward=4 * D_MODEL, dropout=0.0, batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(layer, LAYERS)
        self.norm = nn.LayerNorm(D_MODEL)
        self.out = nn.Linear(D_MODEL, vocab)
        self.register_buffer("causal", torch.triu(torch.full((CONTEXT, CONTEXT), float("-inf")), diagonal=1))

    def forward(self, tokens):
        length = tokens.shape[1]
        h = self.embed(tokens) + self.pos[:length]
        return self.out(self.norm(self.blocks(h, mask=self.causal[:length, :length])))


def batch(data, size):
    starts = torch.randint(0, len(data) - CONTEXT - 1, (size,))
    x = torch.stack([data[s : s + CONTEXT] for s in starts])
    y = torch.stack([data[s + 1 : s + CONTEXT + 1] for s in starts])
    return x, y


@torch.no_grad()
def bits_per_char(model, data):
    """Mean next-character loss in bits over consecutive windows of the first EVAL_CHARS characters."""
    model.eval()
    n = min(EVAL_CHARS, len(data) - 1) // CONTEXT * CONTEXT
    x, y = data[:n].view(-1, CONTEXT), data[1 : n + 1].view(-1, CONTEXT)
    total = sum(
        F.cross_entropy(model(x[i : i + 256]).flatten(0, 1), y[i : i + 256].flatten(), reduction="sum").item()
        for i in range(0, len(x), 256)
    )
    model.train()
    return total / n / math.log(2)


@torch.no_grad()
def generate(model, prompt, index, symbols, length=300):
    model.eval()
    tokens = encode(prompt, index, 0)[None]
    for _ in range(length):
        logits = model(tokens[:, -CONTEXT:])[0, -1]
        tokens = torch.cat([tokens, torch.multinomial(F.softmax(logits, -1), 1)[None]], 1)
    return "".join(symbols[t] for t in tokens[0].tolist())


def main():
    started = time.time()
    fortunes = load_fortunes()
    random.shuffle(fortunes)
    cut = int(len(fortunes) * (1 - VAL_FRACTION))
    train_text, val_text = "".join(fortunes[:cut]), "".join(fortunes[cut:])
    counts = {}
    for c in train_text:
        counts[c] = counts.get(c, 0) + 1
    symbols = ["\ufffd"] + sorted(c for c, n in counts.items() if n >= MIN_COUNT)
    index = {c: i for i, c in enumerate(symbols)}
    train, val = encode(train_text, index, 0), encode(val_text, index, 0)
    print(f"{len(fortunes)} fortunes: {len(train)} training and {len(val)} validation characters, {len(symbols)} symbols")

    model = CharTransformer(len(symbols))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LR, total_steps=STEPS, pct_start=0.1)
    for step in range(1, STEPS + 1):
        x, y = batch(train, BATCH)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 200 == 0:
            print(f"step {step}: training loss {loss.item() / math.log(2):.3f} bits/char ({time.time() - started:.0f} s)")

    results = {
        "val_bpc": bits_per_char(model, val),
        "train_bpc": bits_per_char(model, train),
        "fortunes": len(fortunes),
        "train_chars": len(train),
        "vocabulary": len(symbols),
        "parameters": sum(p.numel() for p in model.parameters()),
        "seconds": time.time() - started,
    }
    with open("results.json", "w") as f:
        json.dump(results, f, indent=2)
    with open("sample.txt", "w") as f:
        f.write(generate(model, "The ", index, symbols))
    print(f"validation: {results['val_bpc']:.3f} bits per character (training {results['train_bpc']:.3f}; seed {SEED})")


if __name__ == "__main__":
    main()
