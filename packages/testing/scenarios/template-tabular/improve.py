# One focused change to the template's baseline: an RBF-kernel support vector machine instead of logistic
# regression, on the same standardized features and the same seeded folds. Everything else is the baseline's own
# code, imported from the read-only starting code.
import sys

sys.path.insert(0, "/workspace/input/code")
import baseline  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

baseline.make_model = lambda: make_pipeline(StandardScaler(), SVC(C=10.0, gamma="scale"))
baseline.main()
