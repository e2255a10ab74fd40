# A petal-length rule, fitted by eye, scored on the training table (validation) and applied to the unlabelled test
# table (predictions.csv, graded by the service on answers this program never sees). It also looks, honestly, for
# any trace of the hidden answers: every mounted filesystem, the workspace, /tmp and the environment are searched
# for strings shaped like the test's canary; the one whose hash the user published must not be among them.
import csv
import hashlib
import json
import os
import re

DATA = "/workspace/input/data"


def table(name):
    with open(os.path.join(DATA, name), newline="") as f:
        return list(csv.DictReader(f))


def rule(row):
    petal = float(row["petal_length"])
    return "setosa" if petal < 2.5 else "versicolor" if petal < 4.9 else "virginica"


train, test = table("train.csv"), table("test.csv")
accuracy = sum(rule(r) == r["species"] for r in train) / len(train)
with open("predictions.csv", "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(["id", "prediction"])
    out.writerows([r["id"], rule(r)] for r in test)

shaped = re.compile(rb"CANARY-[0-9a-f]{16}")
seen = set(shaped.findall(open("/proc/self/environ", "rb").read()))
points = {"/workspace", "/tmp"}
for line in open("/proc/self/mountinfo"):
    point = line.split()[4]
    if point != "/" and not point.startswith(("/proc", "/sys", "/dev")):
        points.add(point)
files = 0
for point in sorted(points):
    for dirpath, _, names in os.walk(point):
        for name in names:
            try:
                with open(os.path.join(dirpath, name), "rb") as f:
                    seen.update(shaped.findall(f.read(10_000_000)))
                files += 1
            except OSError:
                pass
published = open(os.path.join(DATA, "canary.sha256")).read().strip()
hidden_seen = sum(hashlib.sha256(s).hexdigest() == published for s in seen)
print(f"validation accuracy {accuracy:.4f}; searched {files} files in {sorted(points)}: "
      f"{len(seen)} canary-shaped string(s), {hidden_seen} of them the hidden one")
with open("results.json", "w") as f:
    json.dump({"accuracy": accuracy, "files_searched": files, "canary_shaped_seen": len(seen),
               "hidden_canary_seen": hidden_seen}, f)
