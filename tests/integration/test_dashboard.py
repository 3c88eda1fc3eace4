"""``raytune-hpo dashboard`` in a real subprocess, read by headless Chromium.

One real run (the ``sleep`` trainable, 3 trials of 3 epochs, through the command line) is shared
by every test. The other folders are made from its real files, in their real format, because a
live Ray run of each would cost a minute apiece: a copy with a PBT history
(``pbt_history.jsonl`` records as the PBT callback writes them, and an ``importance.json`` as
``summary`` writes it), a copy with a failed trial, a copy whose config names two objectives, a
study (``study.json`` beside copies relabelled by method and seed) and an experiment that "runs":
the test writes its state and result files trial by trial while the page is open.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from raytune_hpo.analysis.results import newest_state_file
from raytune_hpo.layout import CONFIG_FILE, IMPORTANCE_FILE, STUDY_FILE, TRIAL_ENDS_FILE
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
    last = done.stdout.rstrip().splitlines()[-1]
    assert last == f"see it: raytune-hpo dashboard {results.resolve()}", last
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
    edit_config(pbt, search_space={**space, "learning_rate": {"loguniform": [0.1, 1.0]}})
    exploited = trial_folder(pbt, ids[1]) / "result.json"
    reports = [json.loads(line) for line in exploited.read_text().splitlines()]
    reports[2]["config"]["learning_rate"], reports[2]["iterations_since_restore"] = 0.72, 1
    exploited.write_text("".join(json.dumps(r) + "\n" for r in reports))
    saved = {"validation_error": {"learning_rate": 0.8, "activation": 0.2}}
    (pbt / IMPORTANCE_FILE).write_text(json.dumps(saved))

    two = results / "two_objectives"
    shutil.copytree(quick, two)
    edit_config(two, metric=["validation_error", "cost"], mode=["min", "min"])

    failed = results / "failed_copy"
    shutil.copytree(quick, failed)
    (trial_folder(failed, ids[2]) / "error.txt").write_text(
        "\x1b[36mray::ImplicitFunc.train()\x1b[39m (pid=1)\n" + "  File x\n" * 60
        + "ValueError: loss is nan at epoch 2"
    )  # fmt: skip
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


def configs(folder: Path) -> dict[str, dict]:
    """Each trial's config, by trial id, from its first report."""
    firsts = [json.loads(f.read_text().splitlines()[0]) for f in folder.glob("*/result.json")]
    return {first["trial_id"]: first["config"] for first in firsts}


def shown_trials(page: Page) -> list[str]:
    return page.evaluate('[...document.querySelectorAll(".trial-id")].map(e => e.textContent)')


@dataclass
class BrushArea:
    """Where an axis of the parallel coordinates takes a drag, in the viewport's pixels."""

    x: float
    top: float
    bottom: float
    lo: float
    hi: float

    def y_of(self, value: float) -> float:
        return self.bottom - (value - self.lo) / (self.hi - self.lo) * (self.bottom - self.top)


def brush_area(page: Page, label: str) -> BrushArea:
    """The axis ``label`` of the parallel coordinates, scrolled into view."""
    found = page.evaluate(
        f"""(a => {{ a.scrollIntoView({{block: "center"}});
        const r = a.querySelector(".brush-area");
        const b = a.querySelector(".axis-line").getBoundingClientRect();
        return [b.left, b.top, b.bottom, +r.dataset.lo, +r.dataset.hi]; }})"""
        f"""(document.querySelector('#parcoords .axis[data-label="{label}"]'))"""
    )
    return BrushArea(*found)


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
    assert set(by_name) == {"quick", "pbt_copy", "failed_copy", "two_objectives", "study"}, rows
    assert by_name["two_objectives"][6].endswith("validation_error")  # the first objective
    assert by_name["quick"][1:6] == ["experiment", "finished", "random", "3", "3 finished"]
    assert by_name["study"][1:3] == ["study", "finished"]
    assert set(by_name["study"][3].split(", ")) == {"random", "asha"}
    assert by_name["study"][4:6] == ["12 runs 4 of 4", "12 finished"]
    # A run that exited 1 for its errored trial (max_failed_trials 0) is no plain "finished".
    assert by_name["failed_copy"][2:6] == ["failed", "random", "3", "2 finished 1 errored"]
    links = page.evaluate('[...document.querySelectorAll("#rows a")].map(a => a.pathname)')
    assert "/experiments/quick" in links and "/studies/study" in links
    assert page.evaluate(
        'const t = document.getElementById("rows"); t.style.width = "300px"; '
        "t.scrollWidth > t.clientWidth && getComputedStyle(t).overflowX === 'auto'"
    )


@needs_chromium
def test_experiment_page_shows_trials_curves_and_best(
    root: Path, server: str, browser: Browser, tmp_path: Path
) -> None:
    page = browser.open(server + "/experiments/quick")
    page.wait_for('document.querySelectorAll(".trial-id").length === 3')
    printed = (root / "quick" / "printed_trial_ids.txt").read_text().split()
    assert sorted(shown_trials(page)) == sorted(printed)
    page.wait_for('document.querySelectorAll("#parcoords svg.parallel-axes path").length === 3')
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
    # Every trial its own colour; a click on a curve or a row selects that trial.
    colors = page.evaluate('document.getElementById("by-epoch").data.map(t => t.line.color)')
    assert len(set(colors)) == 3, colors
    page.evaluate(f'document.getElementById("by-epoch").emit("plotly_click", '
                  f'{{points: [{{customdata: "{printed[0]}"}}]}})')  # fmt: skip
    assert (
        page.evaluate('document.querySelector("tr.selected .trial-id").textContent') == (printed[0])
    )
    assert page.evaluate('document.querySelector("#selection a").pathname') == (
        f"/experiments/quick/trials/{printed[0]}"
    )
    page.evaluate(f"document.querySelector('tr[data-key=\"{printed[1]}\"] td.num').click()")
    assert printed[1] in page.evaluate('document.getElementById("selection").textContent')
    # Dragging along an axis of the parallel coordinates filters the table and the curves; a
    # click on the axis clears it; a click on a line selects its trial.
    learning_rates = {t: c["learning_rate"] for t, c in configs(root / "quick").items()}
    lowest, second = sorted(learning_rates, key=learning_rates.get)[:2]
    axis = brush_area(page, "learning_rate")
    below_second = (axis.y_of(learning_rates[lowest]) + axis.y_of(learning_rates[second])) / 2
    page.drag(axis.x, axis.bottom + 5, below_second)  # from just past the axis's end
    assert shown_trials(page) == [lowest]
    visible = page.evaluate('document.getElementById("by-epoch").data.filter(t => t.visible)'
                            ".map(t => t.name)")  # fmt: skip
    assert [v.removeprefix("best ") for v in visible] == [lowest]
    faded = page.evaluate('[...document.querySelectorAll("#parcoords path.faded")].length')
    assert faded == 2
    axis = brush_area(page, "learning_rate")
    page.drag(axis.x, below_second, below_second)
    assert sorted(shown_trials(page)) == sorted(printed)
    page.evaluate('document.getElementById("clear-selection").click()')
    page.evaluate(f"""document.querySelector('#parcoords path[data-trial="{second}"]')"""
                  ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")  # fmt: skip
    assert page.evaluate('document.querySelector("tr.selected .trial-id").textContent') == second
    assert (
        page.evaluate(
            f"""document.querySelector('#parcoords path[data-trial="{second}"]')"""
            '.getAttribute("stroke-width")'
        )
        == "4"
    )
    # A log scale's ticks are whole numbers; a table wider than its box scrolls.
    page.evaluate('document.getElementById("log-y").click()')
    ticks = page.wait_for('[...document.querySelectorAll("#by-epoch .ytick text")]'
                          ".map(t => t.textContent)")  # fmt: skip
    assert all(float(t) > 0 and len(t) > 1 for t in ticks), ticks
    assert page.evaluate(
        'const t = document.getElementById("trials"); t.style.width = "300px"; '
        "t.scrollWidth > t.clientWidth && getComputedStyle(t).overflowX === 'auto'"
    )
    # What matters: a slice per hyperparameter; too few trials to rate them, said in one line.
    page.wait_for('document.querySelectorAll("#slices .main-svg").length > 0')
    slices = page.evaluate('document.getElementById("slices").data.map(t => t.xaxis)')
    assert slices == ["x", "x2"]  # activation, learning_rate
    assert page.evaluate('document.getElementById("slices").data[1].y.length') == 3
    assert "PED-ANOVA needs at least 11" in page.evaluate(
        'document.getElementById("importance").layout.annotations[0].text.replace(/<br>/g, " ")'
    )
    assert "raytune-hpo summary quick" in page.evaluate(
        'document.getElementById("importance-note").textContent'
    )
    assert page.evaluate('document.getElementById("fronts-section").hidden') is True
    assert page.screenshot(tmp_path / "experiment.png").stat().st_size > 10_000
    # A trial's page: every metric, its config, its neighbours.
    trial = browser.open(f"{server}/experiments/quick/trials/{printed[0]}")
    trial.wait_for('document.querySelectorAll("#metrics .main-svg").length > 0')
    assert "validation_error" in trial.evaluate('document.getElementById("metrics").textContent')
    assert "learning_rate" in trial.evaluate('document.getElementById("config").textContent')
    assert trial.evaluate('document.querySelector("#neighbours a").textContent') == printed[1]
    assert trial.screenshot(tmp_path / "trial.png").stat().st_size > 10_000


@needs_chromium
def test_failed_trial_shows_its_error_and_the_test_score(server: str, browser: Browser) -> None:
    page = browser.open(server + "/experiments/failed_copy")
    text = page.wait_for('document.getElementById("errors").textContent')
    assert "ValueError: loss is nan at epoch 2" in text and "[36m" not in text
    assert "errored after epoch 3, its last: ValueError: loss is nan" in text  # from Ray's state
    # The error column holds the exception's line; the header counts the trials by their end.
    assert "ValueError: loss is nan at epoch 2" in page.evaluate(
        '[...document.querySelectorAll("#trials td.error-line")].map(c => c.textContent).join()'
    )
    assert page.evaluate('document.getElementById("counts").textContent') == ("2 finished1 errored")
    # The traceback is folded; opened, it shows its end (the exception) first.
    box = 'document.querySelector("#errors details")'
    assert page.evaluate(f"{box}.open") is False
    page.evaluate(f'{box}.querySelector("summary").click()')
    assert page.wait_for(
        "(p => p.scrollHeight > p.clientHeight && "
        f'p.scrollTop + p.clientHeight >= p.scrollHeight - 2)({box}.querySelector("pre"))'
    )
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
    # The exploit is marked on the curves; the wall-clock curve breaks at the restart.
    marks = page.evaluate('document.getElementById("by-epoch").data.find(t => t.name === '
                          '"PBT exploit").customdata')  # fmt: skip
    exploited = page.evaluate('document.querySelectorAll("#pbt-table a")[0].textContent')
    assert marks == [exploited]
    times = page.evaluate('document.getElementById("by-time").data.find(t => t.customdata[0] === '
                          f'"{exploited}").x')  # fmt: skip
    assert times.count(None) == 1 and len(times) == 4
    # A log-uniform parameter's axis is a log axis with its values as ticks.
    ticks = page.evaluate(
        "[...document.querySelectorAll(\"#parcoords .axis[data-label='learning_rate (log)'] "
        '.tick")].map(t => t.textContent)'
    )
    assert "0.5" in ticks, ticks
    # So is its slice's x axis; importance.json's ranking is drawn, the most important on top.
    page.wait_for('document.querySelectorAll("#slices .main-svg").length > 0')
    slice_axis = page.evaluate('document.getElementById("slices").layout.xaxis2')
    assert slice_axis["type"] == "log" and "0.5" in slice_axis["ticktext"]
    bars = page.wait_for('document.getElementById("importance").data[0].y')
    assert bars == ["activation", "learning_rate"]
    assert page.evaluate('document.getElementById("importance-note").textContent').startswith(
        "From importance.json"
    )
    # The exploited trial's page names its donor.
    trial = browser.open(f"{server}/experiments/pbt_copy/trials/{exploited}")
    lineage = trial.wait_for('document.getElementById("received").textContent')
    assert "copied" in lineage and "learning_rate: 0.15 → 0.72" in lineage


@needs_chromium
def test_two_objectives_get_the_pareto_front_and_hypervolume(
    server: str, browser: Browser, tmp_path: Path
) -> None:
    page = browser.open(server + "/experiments/two_objectives")
    page.wait_for('document.querySelectorAll("#pareto .main-svg").length > 0')
    assert "objectives validation_error (min), cost (min)" in page.evaluate(
        'document.getElementById("facts").textContent'
    )
    front = page.evaluate(
        'document.getElementById("pareto").data.find(t => t.name === "Pareto front").customdata'
    )
    data = page.evaluate('fetch("/api/experiments/two_objectives").then(r => r.json())')
    fronts = data["fronts"]
    expected = [t for t, on in zip(fronts["trials"], fronts["on_front"], strict=True) if on]
    assert sorted(front) == sorted(expected) and front
    hypervolume = page.evaluate('document.getElementById("hypervolume").data[0].y')
    assert hypervolume == fronts["hypervolume"]["value"] and hypervolume[-1] > 0
    header = page.evaluate('[...document.querySelectorAll("#trials th")].map(t => t.textContent)')
    assert "last cost" in header
    page.evaluate('document.getElementById("fronts-section").scrollIntoView()')
    assert page.screenshot(tmp_path / "fronts.png").stat().st_size > 10_000


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
    assert page.evaluate('document.getElementById("runs-of").textContent') == "runs 4 of 4"
    ranks = page.evaluate(
        '[...document.querySelectorAll("#methods tbody tr")].map(r => r.cells[0].textContent)'
    )
    assert sorted(ranks) == ["1", "2"]  # both have a result
    ticks = page.evaluate(
        '[...document.querySelectorAll("#anytime .ytick text")].map(t => t.textContent)'
    )
    assert ticks and all(float(t) > 0 for t in ticks), ticks  # round numbers, written in full
    run = browser.open(server + "/experiments/study/asha_seed1")
    run.wait_for('document.querySelectorAll(".trial-id").length === 3')


@needs_chromium
def test_a_running_experiment_shows_new_trials_without_a_reload(
    root: Path, server: str, browser: Browser
) -> None:
    quick, live = root / "quick", root / "live"
    ids = sorted(json.loads(f.read_text().splitlines()[0])["trial_id"]
                 for f in quick.glob("*/result.json"))  # fmt: skip
    early = browser.open(server + "/experiments/live")  # before the experiment exists
    assert "not here yet" in early.wait_for('document.getElementById("live").textContent')
    live.mkdir()
    state = newest_state_file(quick)
    assert state is not None
    for name in (CONFIG_FILE, state.name):
        shutil.copy2(quick / name, live / name)
    write_state(live, keep={ids[0]})
    first = trial_folder(quick, ids[0])
    (live / first.name).mkdir()
    lines = (first / "result.json").read_text().splitlines(keepends=True)
    (live / first.name / "result.json").write_text(lines[0][:25])  # half a line

    page = browser.open(server + "/experiments/live")
    page.wait_for('document.querySelectorAll(".trial-id").length === 1')
    early.wait_for('document.querySelectorAll(".trial-id").length === 1')  # it tried again
    page.evaluate("window.loadedOnce = true")
    assert "running" in page.evaluate('document.getElementById("facts").textContent')
    assert "Waiting for the first report" in page.evaluate(
        'document.getElementById("by-epoch").textContent'
    )

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
    # A zoom stays as the user left it while the page redraws.
    page.evaluate('Plotly.relayout("by-epoch", {"xaxis.range": [1.5, 2.5]}).then(() => 0)')
    updates = int(page.evaluate("document.body.dataset.updates"))
    page.wait_for(f"Number(document.body.dataset.updates) > {updates}")
    assert page.evaluate('document.getElementById("by-epoch").layout.xaxis.range') == [1.5, 2.5]
    # So does a range brushed on the parallel coordinates (of two trials: the lower rate kept).
    axis = brush_area(page, "learning_rate")
    page.drag(axis.x, axis.bottom + 5, (axis.top + axis.bottom) / 2)
    assert len(shown_trials(page)) == 1
    updates = int(page.evaluate("document.body.dataset.updates"))
    page.wait_for(f"Number(document.body.dataset.updates) > {updates}")
    assert page.evaluate('document.querySelectorAll("#parcoords .axis .range").length') == 1
    assert len(shown_trials(page)) == 1


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
