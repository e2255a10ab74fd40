# Written the way AI-Scientist's templates write results: run_0/final_info.json ({dataset: {"means": {...}}}) and no
# results.json. It reads a marker file that only the test's own sandbox image has (tests/e2e/sandbox-images.int.test.ts
# builds it FROM the python image); in any other image it crashes, so its metric proves where it ran.
import json
import os

with open("/opt/autolab-alt/marker") as f:
    marker = float(f.read().strip())
print(f"marker {marker}")
os.makedirs("run_0", exist_ok=True)
with open("run_0/final_info.json", "w") as f:
    json.dump({"alt_image": {"means": {"marker_value": marker}, "stderrs": {"marker_value_stderr": 0.0}}}, f)
