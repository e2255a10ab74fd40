# Reads the user's table from the read-only input mount and scores a one-feature rule on it:
# "setosa if the sepal is shorter than 5.5 cm". The test computes the same accuracy from the file it uploaded.
import csv
import json

with open("/workspace/input/data/iris.csv", newline="") as f:
    rows = list(csv.DictReader(f))
correct = sum((float(r["sepal_length"]) < 5.5) == (r["species"] == "setosa") for r in rows)
accuracy = correct / len(rows)
print(f"{len(rows)} rows, rule accuracy {accuracy:.4f}")
with open("results.json", "w") as f:
    json.dump({"accuracy": accuracy, "rows": len(rows)}, f)
