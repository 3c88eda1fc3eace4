"""User code as a user writes it for plain Ray Tune: the integration tests copy this file into a
temporary folder outside the package and tune it by import path.

Every trainable climbs by ``lr`` per step and reports where it stands, where its state came
from and which ``lr`` it saw, so that tests can follow PBT's exploits report by report.
"""

import json
import os
import tempfile
import time

from ray import tune


def _state_of(checkpoint):
    with checkpoint.as_directory() as folder:
        with open(os.path.join(folder, "state.json")) as file:
            return json.load(file)


def climb(config):
    """A function trainable that checkpoints every step and never stops by itself."""
    state = {"step": 0, "score": 0.0, "owner": ""}
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        state = _state_of(checkpoint)
    restored_from = state["owner"]
    while True:
        time.sleep(config.get("seconds_per_step", 0.05))
        state = {
            "step": state["step"] + 1,
            "score": state["score"] + config["lr"],
            "owner": tune.get_context().get_trial_id(),
        }
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "state.json"), "w") as file:
                json.dump(state, file)
            tune.report(
                {
                    "score": state["score"],
                    "epoch": state["step"],
                    "lr_seen": config["lr"],
                    "restored_from": restored_from,
                },
                checkpoint=tune.Checkpoint.from_directory(folder),
            )


def climb_without_checkpoints(config):
    """Like :func:`climb`, but it never saves its state."""
    score = 0.0
    for step in range(1, 1000):
        time.sleep(config.get("seconds_per_step", 0.05))
        score += config["lr"]
        tune.report({"score": score, "epoch": step})


def climb_to_nan(config):
    """Climbs by ``lr``, but a rate above 1.5 diverges at the second step (a NaN score)."""
    for step in range(1, 1000):
        diverged = config["lr"] > 1.5 and step >= 2
        tune.report({"score": float("nan") if diverged else config["lr"] * step, "epoch": step})


class Climber(tune.Trainable):
    """The same climb as a class trainable, with save, load and reset."""

    def setup(self, config):
        self.lr = config["lr"]
        self.score = 0.0
        self.restored_from = ""

    def step(self):
        time.sleep(self.config.get("seconds_per_step", 0.05))
        self.score += self.lr
        return {"score": self.score, "lr_seen": self.lr, "restored_from": self.restored_from}

    def save_checkpoint(self, checkpoint_dir):
        return {"score": self.score, "owner": self.trial_id}

    def load_checkpoint(self, checkpoint):
        self.score = checkpoint["score"]
        self.restored_from = checkpoint["owner"]

    def reset_config(self, new_config):
        self.lr = new_config["lr"]
        self.config = new_config
        return True


def evaluate(checkpoint_dir, config):
    """The ``evaluate`` hook: the saved score, as a test metric."""
    with open(os.path.join(checkpoint_dir, "state.json")) as file:
        return {"test_score": json.load(file)["score"] * 10}


def climb_or_crash(config):
    """Climbs by ``lr`` per step (at most 3); at step 2 a rate of 3 raises and a rate of 4 kills
    its own worker (SIGSEGV). Rates below 3 report first after those two did (each writes a
    marker file into ``config["markers"]`` before its first report), so that ASHA weighs them
    against the two."""
    import signal

    lr, markers = config["lr"], config["markers"]
    if lr < 3:
        deadline = time.monotonic() + 120
        while not all(os.path.exists(os.path.join(markers, m)) for m in ("3.0", "4.0")):
            if time.monotonic() > deadline:
                raise TimeoutError("the trials of rates 3 and 4 never reported")
            time.sleep(0.05)
        time.sleep(1.0)  # their reports reach the driver first
    for step in range(1, 1000):
        if step == 2 and lr == 3.0:
            raise ValueError(f"lost the gradient at step {step}")
        if step == 2 and lr == 4.0:
            os.kill(os.getpid(), signal.SIGSEGV)
        if step == 1:
            open(os.path.join(markers, str(lr)), "w").close()
        tune.report({"score": min(lr, 3.0) * step, "epoch": step})
        time.sleep(0.3)
