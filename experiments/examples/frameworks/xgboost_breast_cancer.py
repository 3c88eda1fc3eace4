"""An XGBoost script as XGBoost's docs write one: ``xgb.train`` on scikit-learn's breast cancer.

Nothing in it knows of Ray or raytune_hpo. With ``evals=[(dval, "val")]`` XGBoost prints one
line per boosting round, ``[3]\tval-logloss:0.21618\tval-error:0.02797``, which
``configs/frameworks/xgboost_asha.yaml`` reads; the booster is saved as ``model.json`` in the
working directory at the end. Before each of those lines it prints the round's number, counted
from the first round of the model, and the learning rate the booster used
(``round=3 eta=0.3``).

When ``$RAYTUNE_HPO_CHECKPOINT_DIR`` names a folder (a tuner's state folder for this run), the
booster is saved there as ``booster.json`` after every round, before its evaluation is printed
(:class:`SaveBooster`), and a run that finds one there continues it for the rounds left
(``xgb.train(..., xgb_model=...)``), with this run's parameters: a new ``eta``, such as a PBT
exploit's, is in force from the next round.

Run it alone: ``python xgboost_breast_cancer.py --eta 0.3 --max_depth 4 --num_boost_round 20``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split


class SaveBooster(xgb.callback.TrainingCallback):
    """Saves the booster to ``path`` after every round, whole: a reader of ``path`` finds the
    previous round's booster or this one's, never a file half written.

    ``xgb.train`` calls the callbacks it is given before its own ``EvaluationMonitor``, so the
    round's booster is saved before its evaluation line is printed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def after_iteration(
        self, model: xgb.Booster, epoch: int, evals_log: xgb.callback.TrainingCallback.EvalsLog
    ) -> bool:
        written = self.path.with_name(f"{self.path.stem}.tmp{self.path.suffix}")
        model.save_model(written)  # the suffix (.json) picks the format
        os.replace(written, self.path)  # atomic within a folder
        return False


class PrintLearningRate(xgb.callback.TrainingCallback):
    """Prints each round's number, counted over continued training too, and its ``eta``."""

    def after_iteration(
        self, model: xgb.Booster, epoch: int, evals_log: xgb.callback.TrainingCallback.EvalsLog
    ) -> bool:
        config = json.loads(model.save_config())
        eta = float(config["learner"]["gradient_booster"]["tree_train_param"]["eta"])
        print(f"round={model.num_boosted_rounds()} eta={eta:.6g}", flush=True)
        return False


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
    callbacks: list[xgb.callback.TrainingCallback] = [PrintLearningRate()]
    previous = None
    # A tuner that runs the script names a folder for its state: keep the booster there.
    state_dir = os.environ.get("RAYTUNE_HPO_CHECKPOINT_DIR")
    if state_dir:
        saved = Path(state_dir) / "booster.json"
        if saved.is_file():
            previous = xgb.Booster(model_file=saved)
            print(f"continuing {saved} after round {previous.num_boosted_rounds()}", flush=True)
        callbacks.insert(0, SaveBooster(saved))
    done = previous.num_boosted_rounds() if previous is not None else 0
    bst = xgb.train(
        params,
        dtrain,
        num_boost_round=max(args.num_boost_round - done, 0),
        evals=[(dval, "val")],
        xgb_model=previous,
        callbacks=callbacks,
    )
    bst.save_model("model.json")


if __name__ == "__main__":
    main()
