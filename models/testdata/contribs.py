"""Writes XGBoost's own approximate (Saabas) contributions for the first
rows of the shared model fixtures, for models/explain_test.go.

Run with XGBoost 1.7.4 (Debian: apt-get install python3-xgboost) from the
repository root:  /usr/bin/python3 models/testdata/contribs.py ../shared/fixtures/models
"""
import csv
import sys

import numpy as np
import xgboost as xgb

ROWS = 200
fixtures = sys.argv[1]
for model, expected in [("cart_recovery.xgb.json", "cart_recovery.expected.csv"),
                        ("channel_choice.xgb.json", "channel_choice.expected.csv")]:
    bst = xgb.Booster(model_file=f"{fixtures}/{model}")
    names = bst.feature_names
    with open(f"{fixtures}/{expected}") as f:
        rows = list(csv.reader(f))[1:ROWS + 1]
    x = np.array([[float(v) if v != "" else np.nan for v in r[:len(names)]] for r in rows], dtype=np.float32)
    c = bst.predict(xgb.DMatrix(x, missing=np.nan, feature_names=names), pred_contribs=True, approx_contribs=True)
    if c.ndim == 2:  # one output: rows x (features + bias)
        c = c[:, None, :]
    out = model.replace(".xgb.json", ".contribs.csv")
    with open(f"models/testdata/{out}", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row", "class"] + names + ["bias"])
        for i in range(c.shape[0]):
            for k in range(c.shape[1]):
                w.writerow([i + 1, k] + [repr(float(v)) for v in c[i, k]])
