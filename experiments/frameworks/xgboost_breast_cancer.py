"""An XGBoost script as XGBoost's docs write one: ``xgb.train`` on scikit-learn's breast cancer.

Nothing in it knows of Ray or raytune_hpo. With ``evals=[(dval, "val")]`` XGBoost prints one
line per boosting round, ``[3]\tval-logloss:0.21618\tval-error:0.02797``, which
``configs/frameworks/xgboost_asha.yaml`` reads; the booster is saved as ``model.json`` in the
working directory at the end.

Run it alone: ``python xgboost_breast_cancer.py --eta 0.3 --max_depth 4 --num_boost_round 20``.
"""

from __future__ import annotations

import argparse

import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split


def main() -> None:
    parser = argparse.ArgumentParser(description="Train a gradient-boosted classifier.")
    parser.add_argument("--eta", type=float, default=0.3)
    parser.add_argument("--max_depth", type=int, default=6)
    parser.add_argument("--min_child_weight", type=float, default=1.0)
    parser.add_argument("--subsample", type=float, default=1.0)
    parser.add_argument("--num_boost_round", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data, labels = load_breast_cancer(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        data, labels, test_size=0.25, random_state=args.seed
    )
    dtrain = xgb.DMatrix(x_train, label=y_train)
    dval = xgb.DMatrix(x_val, label=y_val)
    params = {
        "objective": "binary:logistic",
        "eval_metric": ["logloss", "error"],
        "eta": args.eta,
        "max_depth": args.max_depth,
        "min_child_weight": args.min_child_weight,
        "subsample": args.subsample,
        "nthread": 1,
        "seed": args.seed,
    }
    bst = xgb.train(params, dtrain, num_boost_round=args.num_boost_round, evals=[(dval, "val")])
    bst.save_model("model.json")


if __name__ == "__main__":
    main()
