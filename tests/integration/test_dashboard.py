"""``raytune-hpo dashboard`` in a real subprocess, read by headless Chromium.

One real run (the ``sleep`` trainable, 3 trials of 3 epochs, through the command line) is shared
by every test. The other folders are made from its real files, in their real format, because a
live Ray run of each would cost a minute apiece: a copy with a PBT history
(``pbt_history.jsonl`` records as the PBT callback writes them), a copy with a failed trial, a
study (``study.json`` beside copies relabelled by method and seed) and an experiment that "runs":
the test writes its state and result files trial by trial while the page is open.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from raytune_hpo.analysis.results import newest_state_file
from raytune_hpo.layout import CONFIG_FILE, STUDY_FILE, TRIAL_ENDS_FILE
from tests.helpers.browser import Browser, Page
from tests.helpers.dashboard import TRIAL_ID, dashboard, edit_config, needs_chromium, status_of
from tests.helpers.running import run_cli, write_sleep_config

pytestmark = pytest.mark.integration


def write_state(folder: Path, keep: set[str] | None = None, errors: dict | None = None) -> None:
    """Rewrite ``folder``'s state file: only the trials in ``keep``; ``errors`` (trial id ->
    error file name) marked ERROR as Ray marks a failed trial."""
    state_file = newest_state_file(folder)
    assert state_file is not None
    state = json.loads(state_file.read_text())
    rows = []
    for trial_json, runtime_json in state["trial_data"]:
        trial, runtime = json.loads(trial_json), json.loads(runtime_json)
        if keep is not None and trial["trial_id"] not in keep:
            continue
        if trial["trial_id"] in (errors or {}):
            trial["status"] = "ERROR"
            runtime["error_filename"] = errors[trial["trial_id"]]
        rows.append([json.dumps(trial), json.dumps(runtime)])
    state["trial_data"] = rows
    state_file.write_text(json.dumps(state))


def trial_folder(folder: Path, trial_id: str) -> Path:
    return next(folder.glob(f"*_{trial_id}_*"))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared real run, ``quick``, and the folders made from it."""
    base = tmp_path_factory.mktemp("dashboard")
    space = {"learning_rate": {"uniform": [0.1, 1.0]}, "activation": {"choice": ["relu", "tanh"]}}
    config = write_sleep_config(
        base, "quick", str(base / "results"), epochs=3, trials=3, search_space=space,
        trainable_options={"seconds_per_epoch": 0.1},
    )  # fmt: skip
    done = run_cli("run", str(config), "--quiet")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = base / "results"
    quick = results / "quick"
    ids = sorted(set(TRIAL_ID.findall(done.stdout)))
    assert len(ids) == 3, done.stdout
    (quick / "printed_trial_ids.txt").write_text("\n".join(ids))

    pbt = results / "pbt_copy"
    shutil.copytree(quick, pbt)
    edit_config(pbt, scheduler={"name": "pbt", "hyperparam_mutations": {"learning_rate": {}}})
    records = [
        {"time": time.time(), "trial_id": ids[1], "donor_id": ids[0], "training_iteration": 2,
         "donor_iteration": 2, "old": {"learning_rate": 0.15}, "donor": {"learning_rate": 0.6},
         "new": {"learning_rate": 0.72}},
        {"time": time.time(), "trial_id": ids[2], "donor_id": ids[0], "training_iteration": 2,
         "donor_iteration": 2, "old": {"learning_rate": 0.11}, "donor": {"learning_rate": 0.6},
         "new": {"learning_rate": 0.48}},
    ]  # fmt: skip
    (pbt / "pbt_history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))

    failed = results / "failed_copy"
    shutil.copytree(quick, failed)
    (trial_folder(failed, ids[2]) / "error.txt").write_text("ValueError: loss is nan at epoch 2")
    write_state(failed, errors={ids[2]: "error.txt"})
    (failed / TRIAL_ENDS_FILE).unlink()  # ends read from the edited state (older runs)
    best = json.loads((failed / "best.json").read_text())
    (failed / "best.json").write_text(json.dumps({**best, "test": {"test_error": 0.125}}))

    study = results / "study"
    for method, scheduler in (("random", "fifo"), ("asha", "asha")):
        for seed in (0, 1):
            run = study / f"{method}_seed{seed}"
            shutil.copytree(quick, run)
            edit_config(run, name=run.name, seed=seed, scheduler={"name": scheduler})
    settings = {"configs": ["random.yaml", "asha.yaml"], "seeds": 2, "budget_s": 10}
    finished = {run.name: {} for run in study.iterdir()}
    (study / STUDY_FILE).write_text(json.dumps({"settings": settings, "finished": finished}))

    (results / "not_an_experiment").mkdir()
    (results / "not_an_experiment" / "notes.txt").write_text("hello")
    outside = base / "outside"
    shutil.copytree(quick, outside)
    (results / "linked_out").symlink_to(outside)
    return results


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[str]:
    """The dashboard over the shared run and the folders made from it."""
    with dashboard(str(root)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module (its tests are marked ``needs_chromium``)."""
    with Browser() as opened:
        yield opened


def shown_trials(page: Page) -> list[str]:
    return page.evaluate('[...document.querySelectorAll(".trial-id")].map(e => e.textContent)')


def charts(page: Page, holder: str) -> int:
    return page.evaluate(f'document.querySelectorAll("#{holder} .main-svg").length')


@needs_chromium
def test_index_lists_every_experiment_and_study_with_links(server: str, browser: Browser) -> None:
    page = browser.open(server + "/")
    page.wait_for('document.querySelectorAll("#rows a").length >= 4')
    rows = page.evaluate(
        '[...document.querySelectorAll("#rows tbody tr")].map(r => '
        "[...r.cells].map(c => c.textContent))"
    )
    by_name = {row[0]: row for row in rows}
    assert set(by_name) == {"quick", "pbt_copy", "failed_copy", "study"}, rows
    assert by_name["quick"][1:5] == ["experiment", "finished", "random", "3"]
    assert by_name["study"][1:3] == ["study", "finished"]
    assert set(by_name["study"][3].split(", ")) == {"random", "asha"}
    links = page.evaluate('[...document.querySelectorAll("#rows a")].map(a => a.pathname)')
    assert "/experiments/quick" in links and "/studies/study" in links


@needs_chromium
def test_experiment_page_shows_trials_curves_and_best(
    root: Path, server: str, browser: Browser, tmp_path: Path
) -> None:
    page = browser.open(server + "/experiments/quick")
    page.wait_for('document.querySelectorAll(".trial-id").length === 3')
    printed = (root / "quick" / "printed_trial_ids.txt").read_text().split()
    assert sorted(shown_trials(page)) == sorted(printed)
    page.wait_for('document.querySelectorAll("#parcoords .main-svg").length > 0')
    assert charts(page, "by-epoch") and charts(page, "by-time")
    best = json.loads((root / "quick" / "best.json").read_text())
    best_row = page.evaluate('document.querySelector("tr.best .trial-id").textContent')
    assert best_row == best["trial_id"]
    assert best["trial_id"] in page.evaluate('document.getElementById("best").textContent')
    # Each trial's end in the console's words (the run recorded them in trial_ends.json).
    trials = page.evaluate('document.getElementById("trials").textContent')
    assert trials.count("finished after 3 epochs") == 3, trials
    # Sorting by a column header, then filtering by status.
    page.evaluate('[...document.querySelectorAll("#trials th")].find(t => t.textContent === '
                  '"trial").click()')  # fmt: skip
    assert shown_trials(page) == sorted(printed)
    page.evaluate('document.querySelector("#trials th[data-key=trial_id]").click()')
    assert shown_trials(page) == sorted(printed, reverse=True)
    page.evaluate(
        'const f = document.getElementById("status-filter"); f.value = "errored"; '
        'f.dispatchEvent(new Event("change"))'
    )
    assert page.evaluate('document.getElementById("status-filter").value') == ""  # none errored
    assert page.screenshot(tmp_path / "experiment.png").stat().st_size > 10_000


@needs_chromium
def test_failed_trial_shows_its_error_and_the_test_score(server: str, browser: Browser) -> None:
    page = browser.open(server + "/experiments/failed_copy")
    text = page.wait_for('document.getElementById("errors").textContent')
    assert "ValueError: loss is nan at epoch 2" in text
    assert "errored after epoch 3, its last: ValueError: loss is nan" in text  # from Ray's state
    assert "test score test_error 0.125" in page.evaluate(
        'document.getElementById("best").innerText'
    )
    page.evaluate(
        'const f = document.getElementById("status-filter"); f.value = "errored"; '
        'f.dispatchEvent(new Event("change"))'
    )
    assert len(shown_trials(page)) == 1


@needs_chromium
def test_pbt_page_shows_the_perturbation_schedule(server: str, browser: Browser) -> None:
    page = browser.open(server + "/experiments/pbt_copy")
    page.wait_for('document.querySelectorAll("#pbt .main-svg").length > 0')
    assert page.evaluate('document.getElementById("pbt-section").hidden') is False
    table = page.evaluate('document.getElementById("pbt-table").textContent')
    assert "0.15 → 0.72" in table and "0.11 → 0.48" in table


@needs_chromium
def test_study_page_compares_methods_over_seeds(server: str, browser: Browser) -> None:
    page = browser.open(server + "/studies/study")
    page.wait_for('document.querySelectorAll("#anytime .main-svg").length > 0')
    page.wait_for('document.querySelectorAll("#runs a").length === 4')
    methods = page.evaluate(
        '[...document.querySelectorAll("#methods tbody tr")].map(r => r.cells[1].textContent)'
    )
    assert sorted(methods) == ["asha", "random"]
    links = page.evaluate('[...document.querySelectorAll("#runs a")].map(a => a.pathname)')
    assert "/experiments/study/asha_seed1" in links
    run = browser.open(server + "/experiments/study/asha_seed1")
    run.wait_for('document.querySelectorAll(".trial-id").length === 3')


@needs_chromium
def test_a_running_experiment_shows_new_trials_without_a_reload(
    root: Path, server: str, browser: Browser
) -> None:
    quick, live = root / "quick", root / "live"
    ids = sorted(json.loads(f.read_text().splitlines()[0])["trial_id"]
                 for f in quick.glob("*/result.json"))  # fmt: skip
    live.mkdir()
    state = newest_state_file(quick)
    assert state is not None
    for name in (CONFIG_FILE, state.name):
        shutil.copy2(quick / name, live / name)
    write_state(live, keep={ids[0]})
    first = trial_folder(quick, ids[0])
    (live / first.name).mkdir()
    lines = (first / "result.json").read_text().splitlines(keepends=True)
    (live / first.name / "result.json").write_text(lines[0] + lines[1][:25])  # half a line

    page = browser.open(server + "/experiments/live")
    page.wait_for('document.querySelectorAll(".trial-id").length === 1')
    page.evaluate("window.loadedOnce = true")
    assert "running" in page.evaluate('document.getElementById("facts").textContent')

    (live / first.name / "result.json").write_text("".join(lines))
    second = trial_folder(quick, ids[1])
    shutil.copytree(second, live / second.name)
    state = newest_state_file(quick)
    assert state is not None
    shutil.copy2(state, live / state.name)
    write_state(live, keep={ids[0], ids[1]})
    page.wait_for('document.querySelectorAll(".trial-id").length === 2', timeout_s=20)
    assert sorted(shown_trials(page)) == ids[:2]
    assert page.evaluate("window.loadedOnce === true")  # the same document: no reload
    assert page.evaluate("document.body.dataset.firstTrials") == "1"
    assert int(page.evaluate("document.body.dataset.updates")) > 1


@pytest.mark.parametrize(
    "path",
    [
        "/experiments/../../etc/passwd",
        "/experiments/%2e%2e/%2e%2e/etc/passwd",
        "/experiments/%2E%2E%2F%2E%2E%2Fetc",
        "/api/experiments/..%2f..%2fetc",
        "/api/experiments/quick/..",
        "/experiments/linked_out",
        "/api/experiments/linked_out",
        "/experiments/not_an_experiment",
        "/studies/quick",
        "/static/..%2fapp.py",
        "/static/index.html/../app.py",
    ],
)
def test_nothing_outside_the_root_is_served(server: str, path: str) -> None:
    assert status_of(server + path) == 404


def test_pages_and_plotly_are_served_locally(server: str) -> None:
    for path in ("/", "/experiments/quick", "/static/plotly.min.js", "/api/experiments/quick"):
        assert status_of(server + path) == 200, path


def test_trials_write_tensorboard_files_with_hparams(root: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    folders = sorted(p.parent for p in (root / "quick").glob("*/result.json"))
    assert len(folders) == 3
    for folder in folders:
        events = EventAccumulator(str(folder))
        events.Reload()
        assert "ray/tune/validation_error" in events.Tags()["scalars"]
        assert len(events.Scalars("ray/tune/validation_error")) == 3
        assert "_hparams_/session_start_info" in events.PluginTagToContent("hparams")


def test_a_config_can_turn_tensorboard_off() -> None:
    from ray.tune.logger import TBXLoggerCallback

    from raytune_hpo.config import validate_config
    from raytune_hpo.tracking.tensorboard import tensorboard_callbacks

    raw = {"name": "tb", "trainable": "sleep", "search_space": {"x": 1}}
    assert validate_config(raw).tensorboard is True
    assert tensorboard_callbacks(validate_config({**raw, "tensorboard": False})) == []
    (callback,) = tensorboard_callbacks(validate_config(raw))
    assert isinstance(callback, TBXLoggerCallback)
