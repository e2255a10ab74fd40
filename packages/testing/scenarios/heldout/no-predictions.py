# Says "setosa" for every flower and forgets to write predictions.csv: the service cannot grade it.
import csv
import json

with open("/workspace/input/data/train.csv", newline="") as f:
    train = list(csv.DictReader(f))
accuracy = sum(r["species"] == "setosa" for r in train) / len(train)
print(f"validation accuracy {accuracy:.4f}")
with open("results.json", "w") as f:
    json.dump({"accuracy": accuracy}, f)
