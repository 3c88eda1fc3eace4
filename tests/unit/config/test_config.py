"""The experiment config: defaults, validation errors, YAML loading, ``--set`` and smoke mode."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any

import pytest

from raytune_hpo.config import (
    ConfigError,
    ExperimentConfig,
    load_config,
    parse_override,
    smoke,
    validate_config,
)
from raytune_hpo.demos.trainables import TRAINABLES

SOURCE = "exp.yaml"

MINIMAL: dict[str, Any] = {
    "name": "exp",
    "search_space": {
        "learning_rate": {"loguniform": [0.01, 1.0]},
        "momentum": {"uniform": [0.0, 0.9]},
        "batch_size": {"randint": [32, 256]},
    },
}

PBT: dict[str, Any] = {"name": "pbt", "hyperparam_mutations": {"momentum": {"uniform": [0, 0.9]}}}


def raw(**changes: Any) -> dict[str, Any]:
    """A deep copy of the minimal valid config with top-level ``changes`` applied."""
    result = copy.deepcopy(MINIMAL)
    result.update(copy.deepcopy(changes))
    return result


def write_yaml(directory: Path, text: str, name: str = "exp.yaml") -> Path:
    """Write dedented YAML ``text`` into ``directory`` and return its path."""
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def config_error(data: dict[str, Any]) -> ConfigError:
    """The ConfigError that validating ``data`` against ``exp.yaml`` raises."""
    with pytest.raises(ConfigError) as info:
        validate_config(data, SOURCE)
    return info.value


# --- valid configs and defaults ---------------------------------------------------------------


def test_minimal_config_gets_defaults() -> None:
    cfg = validate_config(raw(), SOURCE)
    assert isinstance(cfg, ExperimentConfig)
    assert cfg.name == "exp"
    assert cfg.trainable == "lenet"
    assert cfg.dataset.name == "digits"
    assert cfg.metric == "validation_error"
    assert cfg.mode == "min"
    assert cfg.max_epochs == 10
    assert cfg.num_samples == 10
    assert cfg.seed == 0
    assert cfg.searcher.name == "random"
    assert cfg.scheduler.name == "fifo"
    assert (cfg.resources_per_trial.cpu, cfg.resources_per_trial.gpu) == (1, 0)
    assert cfg.points_to_evaluate == []
    assert cfg.time_budget_s is None
    assert cfg.checkpoint.frequency == 1


def test_config_is_frozen() -> None:
    cfg = validate_config(raw(), SOURCE)
    with pytest.raises(Exception, match="frozen"):
        cfg.num_samples = 3  # type: ignore[misc]


def test_section_defaults_fill_in() -> None:
    cfg = validate_config(raw(searcher={"name": "hyperopt"}, scheduler={"name": "asha"}), SOURCE)
    assert cfg.searcher.n_initial_points == 20
    assert cfg.searcher.gamma == 0.25
    assert cfg.scheduler.grace_period == 1
    assert cfg.scheduler.reduction_factor == 2
    assert cfg.scheduler.max_t is None


@pytest.mark.parametrize(
    ("searcher", "scheduler", "method"),
    [
        ({"name": "random"}, {"name": "fifo"}, "random"),
        ({"name": "hyperopt"}, {"name": "fifo"}, "hyperopt"),
        ({"name": "random"}, {"name": "asha"}, "asha"),
        ({"name": "random"}, PBT, "pbt"),
        ({"name": "hyperopt"}, {"name": "asha"}, "hyperopt+asha"),
        ({"name": "hyperopt"}, {"name": "median"}, "hyperopt+median"),
        ({"name": "grid"}, {"name": "hyperband"}, "grid+hyperband"),
    ],
)
def test_method(searcher: dict[str, Any], scheduler: dict[str, Any], method: str) -> None:
    space = dict(MINIMAL["search_space"])
    if searcher["name"] == "grid":
        space["batch_size"] = {"grid": [32, 64]}
    cfg = validate_config(raw(searcher=searcher, scheduler=scheduler, search_space=space))
    assert cfg.method == method


@pytest.mark.parametrize(
    ("scheduler", "max_epochs", "max_t"),
    [
        ({"name": "fifo"}, 7, 7),
        ({"name": "asha"}, 7, 7),
        ({"name": "asha", "max_t": 5}, 7, 5),
        ({"name": "hyperband"}, 9, 9),
        ({"name": "hyperband", "max_t": 4}, 9, 4),
        ({"name": "median"}, 6, 6),
        (PBT, 8, 8),
    ],
)
def test_max_t_defaults_to_max_epochs(
    scheduler: dict[str, Any], max_epochs: int, max_t: int
) -> None:
    cfg = validate_config(raw(scheduler=scheduler, max_epochs=max_epochs))
    assert cfg.max_t == max_t


def test_points_to_evaluate_inside_the_space_are_accepted() -> None:
    point = {"learning_rate": 0.01, "batch_size": 256, "momentum": 0.9}
    cfg = validate_config(raw(points_to_evaluate=[point]), SOURCE)
    assert cfg.points_to_evaluate == [point]


# --- invalid configs: one line, file, dotted key, what is allowed -----------------------------

INVALID: list[tuple[str, dict[str, Any], str, tuple[str, ...]]] = [
    (
        "scheduler_key_typo",
        raw(scheduler={"name": "asha", "grace_perod": 2}),
        "scheduler.grace_perod",
        ("did you mean 'grace_period'", "allowed:", "reduction_factor"),
    ),
    (
        "top_level_key_typo",
        raw(num_sample=4),
        "num_sample",
        ("did you mean 'num_samples'", "allowed:"),
    ),
    (
        "trainable_options_key_typo",
        raw(trainable_options={"activaton": "relu"}),
        "trainable_options.activaton",
        ("did you mean 'activation'",),
    ),
    (
        "resources_key_typo",
        raw(resources_per_trial={"gpus": 1}),
        "resources_per_trial.gpus",
        ("did you mean 'gpu'",),
    ),
    (
        "hyperband_has_no_grace_period",
        raw(scheduler={"name": "hyperband", "grace_period": 1}),
        "scheduler.grace_period",
        ("unknown key", "max_t", "reduction_factor"),
    ),
    (
        "search_space_bad_spec",
        raw(search_space={"lr": {"loguniform": [0, 1.0]}}),
        "search_space.lr",
        ("low > 0", "low=0"),
    ),
    (
        "search_space_unknown_distribution",
        raw(search_space={"lr": {"normal": [0, 1]}}),
        "search_space.lr",
        ("uniform", "loguniform", "choice"),
    ),
    (
        "search_space_empty",
        raw(search_space={}),
        "search_space",
        (),
    ),
    (
        "dataset_unknown",
        raw(dataset={"name": "cifar10"}),
        "dataset.name",
        ("'cifar10'", "digits", "fashion_mnist", "mnist"),
    ),
    (
        "mode",
        raw(mode="maximize"),
        "mode",
        ("'min'", "'max'", "'maximize'"),
    ),
    (
        "num_samples_zero",
        raw(num_samples=0),
        "num_samples",
        ("greater than or equal to 1", "got 0"),
    ),
    (
        "metric_not_reported",
        raw(metric="accuracy"),
        "metric",
        ("'accuracy'", "validation_error", "validation_accuracy"),
    ),
    (
        "point_outside_space",
        raw(points_to_evaluate=[{"learning_rate": 5.0}]),
        "points_to_evaluate[0].learning_rate",
        ("5.0", "loguniform"),
    ),
    (
        "point_unknown_key",
        raw(points_to_evaluate=[{"momentum": 0.5}, {"lr": 0.1}]),
        "points_to_evaluate[1].lr",
        ("not in search_space", "learning_rate"),
    ),
    (
        "pbt_mutation_bad_spec",
        raw(scheduler={**PBT, "hyperparam_mutations": {"momentum": {"uniform": [1, 0]}}}),
        "scheduler.hyperparam_mutations.momentum",
        ("low < high",),
    ),
    (
        "pbt_mutation_not_in_space",
        raw(scheduler={**PBT, "hyperparam_mutations": {"dropout": {"uniform": [0, 1]}}}),
        "scheduler.hyperparam_mutations.dropout",
        ("not in search_space", "learning_rate"),
    ),
    (
        "pbt_mutations_empty",
        raw(scheduler={**PBT, "hyperparam_mutations": {}}),
        "scheduler.hyperparam_mutations",
        ("at least 1",),
    ),
    (
        "pbt_interval_not_multiple_of_checkpoint",
        raw(scheduler={**PBT, "perturbation_interval": 3}, checkpoint={"frequency": 2}),
        "scheduler.perturbation_interval",
        ("checkpoint.frequency (2)", "got 3"),
    ),
    (
        "pbt_interval_zero",
        raw(scheduler={**PBT, "perturbation_interval": 0}),
        "scheduler.perturbation_interval",
        ("got 0",),
    ),
    (
        "pbt_quantile_fraction",
        raw(scheduler={**PBT, "quantile_fraction": 0.7}),
        "scheduler.quantile_fraction",
        ("0.5", "got 0.7"),
    ),
    (
        "pbt_resample_probability",
        raw(scheduler={**PBT, "resample_probability": 1.5}),
        "scheduler.resample_probability",
        ("1", "got 1.5"),
    ),
    (
        "searcher_unknown",
        raw(searcher={"name": "smac"}),
        "searcher.name",
        ("'smac'", "random", "grid", "hyperopt", "optuna", "bohb"),
    ),
    (
        "searcher_without_name",
        raw(searcher={"n_initial_points": 3}),
        "searcher.name",
        ("name",),
    ),
    (
        "grid_without_grid_entries",
        raw(searcher={"name": "grid"}),
        "searcher.name",
        ("{grid: [...]}",),
    ),
    (
        "pbt_after_hyperopt",
        raw(searcher={"name": "hyperopt"}, scheduler=PBT),
        "searcher.name",
        ("pbt", "random or grid"),
    ),
    (
        "hyperopt_with_grid",
        raw(searcher={"name": "hyperopt"}, search_space={"batch_size": {"grid": [32, 64]}}),
        "search_space.batch_size",
        ("hyperopt", "choice"),
    ),
    (
        "scheduler_unknown",
        raw(scheduler={"name": "dyhpo"}),
        "scheduler.name",
        ("'dyhpo'", "fifo", "asha", "hyperband", "median", "pbt", "pb2", "bohb"),
    ),
    (
        "trainable_unknown",
        raw(trainable="resnet"),
        "trainable",
        ("'resnet'", "lenet"),
    ),
    (
        "trainable_option_value",
        raw(trainable_options={"activation": "gelu"}),
        "trainable_options.activation",
        ("'sigmoid'", "'relu'", "'tanh'", "'gelu'"),
    ),
    (
        "asha_grace_beyond_max_epochs",
        raw(max_epochs=3, scheduler={"name": "asha", "grace_period": 5}),
        "scheduler.grace_period",
        ("(3)", "got 5"),
    ),
    (
        "median_grace_beyond_max_epochs",
        raw(max_epochs=3, scheduler={"name": "median", "grace_period": 4}),
        "scheduler.grace_period",
        ("(3)", "got 4"),
    ),
    (
        "asha_grace_beyond_max_t",
        raw(max_epochs=10, scheduler={"name": "asha", "grace_period": 5, "max_t": 4}),
        "scheduler.grace_period",
        ("(4)", "got 5"),
    ),
    (
        "name_with_space",
        raw(name="my exp"),
        "name",
        ("'my exp'",),
    ),
    (
        "name_missing",
        {"search_space": MINIMAL["search_space"]},
        "name",
        ("required",),
    ),
    (
        "scheduler_not_a_mapping",
        raw(scheduler="asha"),
        "scheduler",
        ("'asha'",),
    ),
    (
        "resources_cpu_zero",
        raw(resources_per_trial={"cpu": 0}),
        "resources_per_trial.cpu",
        ("got 0",),
    ),
]


@pytest.mark.parametrize(
    ("data", "key", "fragments"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_config(data: dict[str, Any], key: str, fragments: tuple[str, ...]) -> None:
    err = config_error(data)
    text = str(err)
    assert "\n" not in text
    assert text.startswith(f"{SOURCE}: {key}: "), text
    assert err.key == key
    assert err.source == SOURCE
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} missing from {text!r}"


def test_grace_period_beyond_max_epochs_is_rejected_even_with_a_larger_max_t() -> None:
    """Known bug: the check uses max_t (20), but trials stop at max_epochs (10).

    ASHA would never reach its first rung, so nothing is ever stopped early.
    """
    data = raw(max_epochs=10, scheduler={"name": "asha", "grace_period": 15, "max_t": 20})
    try:
        cfg = validate_config(data, SOURCE)
    except ConfigError as err:
        assert err.key == "scheduler.grace_period"
    else:
        pytest.fail(
            f"accepted grace_period={cfg.scheduler.grace_period} > max_epochs={cfg.max_epochs} "
            f"(max_t={cfg.max_t}); expected ConfigError at scheduler.grace_period"
        )


def test_hyperopt_points_to_evaluate_must_set_every_sampled_key() -> None:
    """Known bug: accepted here, but HyperOptSearch.suggest then raises ValueError.

    Ray: "Ensure that `points_to_evaluate` contains all non-constant keys from `space`".
    The random/grid searchers fill missing keys, so only hyperopt needs the check.
    """
    data = raw(searcher={"name": "hyperopt"}, points_to_evaluate=[{"learning_rate": 0.1}])
    try:
        validate_config(data, SOURCE)
    except ConfigError as err:
        assert err.key.startswith("points_to_evaluate[0]"), str(err)
    else:
        pytest.fail(
            "hyperopt with points_to_evaluate [{learning_rate: 0.1}] (missing momentum, "
            "batch_size) was accepted; Ray fails on the first suggestion instead"
        )


def test_random_searcher_accepts_partial_points_to_evaluate() -> None:
    cfg = validate_config(raw(points_to_evaluate=[{"learning_rate": 0.1}]), SOURCE)
    assert cfg.points_to_evaluate == [{"learning_rate": 0.1}]


def test_validation_error_without_source_has_no_prefix() -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(raw(mode="best"))
    assert str(info.value).startswith("mode: ")


# --- loading YAML files with --set overrides ---------------------------------------------------

FILE = """\
    name: from_file
    dataset: {name: digits}
    max_epochs: 6
    num_samples: 4
    seed: 1
    search_space:
      learning_rate: {loguniform: [0.01, 1.0]}
      batch_size: {randint: [32, 256]}
      weight_decay: 0.0
    scheduler: {name: asha, grace_period: 2}
"""


def test_load_config_reads_the_file(tmp_path: Path) -> None:
    cfg = load_config(write_yaml(tmp_path, FILE))
    assert cfg.name == "from_file"
    assert cfg.max_epochs == 6
    assert cfg.scheduler.name == "asha"
    assert cfg.scheduler.grace_period == 2
    assert cfg.search_space["batch_size"] == {"randint": [32, 256]}


def test_set_overrides_nested_and_new_keys(tmp_path: Path) -> None:
    cfg = load_config(
        write_yaml(tmp_path, FILE),
        [
            "scheduler.grace_period=3",
            "dataset.val_fraction=0.2",
            "max_concurrent_trials=2",
            "trainable_options.activation=relu",
            "search_space.momentum={uniform: [0.0, 0.5]}",
            "name=renamed",
        ],
    )
    assert cfg.scheduler.grace_period == 3
    assert cfg.scheduler.name == "asha"
    assert cfg.dataset.val_fraction == 0.2
    assert cfg.dataset.name == "digits"
    assert cfg.max_concurrent_trials == 2
    assert cfg.trainable_options == {"activation": "relu"}
    assert cfg.search_space["momentum"] == {"uniform": [0.0, 0.5]}
    assert cfg.search_space["learning_rate"] == {"loguniform": [0.01, 1.0]}
    assert cfg.name == "renamed"


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("seed=7", "seed", 7),
        ("max_epochs=3", "max_epochs", 3),
        ("search_space.weight_decay=0.001", "search_space.weight_decay", 0.001),
        ("search_space.weight_decay=5", "search_space.weight_decay", 5),
        ("dataset.download=false", "dataset.download", False),
        ("dataset.train_size=null", "dataset.train_size", None),
        ("dataset.data_dir=/tmp/data", "dataset.data_dir", "/tmp/data"),
    ],
)
def test_set_parses_values_as_yaml(tmp_path: Path, text: str, key: str, value: Any) -> None:
    cfg = load_config(write_yaml(tmp_path, FILE), [text])
    node: Any = cfg
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    assert node == value
    assert type(node) is type(value)


def test_set_parses_exponent_floats() -> None:
    """Known bug: PyYAML (YAML 1.1) reads ``1e-4`` as the string '1e-4'.

    ``--set search_space.weight_decay=1e-4`` then makes weight_decay the string '1e-4'.
    """
    key, value = parse_override("search_space.weight_decay=1e-4")
    assert key == "search_space.weight_decay"
    assert value == 1e-4 and isinstance(value, float), f"parsed as {value!r}"


def test_exponent_floats_in_a_yaml_file_are_numbers(tmp_path: Path) -> None:
    """Known bug: ``{loguniform: [1e-4, 1e-1]}`` is rejected: 'takes two numbers, got ['1e-4'..."""
    path = write_yaml(
        tmp_path,
        """\
        name: exponents
        search_space:
          learning_rate: {loguniform: [1e-4, 1e-1]}
        """,
    )
    try:
        cfg = load_config(path)
    except ConfigError as err:
        pytest.fail(f"a config with 1e-4 written as a number was rejected: {err}")
    assert cfg.search_space["learning_rate"] == {"loguniform": [1e-4, 1e-1]}


def test_set_does_not_change_the_file(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, FILE)
    before = path.read_text()
    load_config(path, ["seed=3"])
    assert path.read_text() == before
    assert load_config(path).seed == 1


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("num_sample=3", "num_sample"),
        ("scheduler.grace_perod=2", "scheduler.grace_perod"),
        ("scheduler.grace_period=0", "scheduler.grace_period"),
        ("search_space.learning_rate={loguniform: [0, 1]}", "search_space.learning_rate"),
    ],
)
def test_bad_set_names_the_override(tmp_path: Path, override: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_yaml(tmp_path, FILE), [override])
    text = str(info.value)
    assert text.startswith(f"--set {key}: "), text
    assert "\n" not in text


def test_set_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'num_samples'"):
        load_config(write_yaml(tmp_path, FILE), ["num_sample=3"])


@pytest.mark.parametrize("override", ["seed", "=3", "  =3"])
def test_set_without_key_value_is_rejected(tmp_path: Path, override: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_yaml(tmp_path, FILE), [override])
    assert str(info.value).startswith("--set: expected KEY=VALUE")


def test_set_into_a_scalar_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_yaml(tmp_path, FILE), ["seed.value=3"])
    assert str(info.value).startswith("--set seed.value: ")


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """\
        name: broken
        search_space:
          learning_rate: {loguniform: [0.01, 1.0]
        seed: 1
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert text.startswith(f"{path}: line 4, column "), text
    assert "invalid YAML" in text
    assert "\n" not in text


@pytest.mark.parametrize("body", ["- a\n- b\n", "just a string\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, body: str) -> None:
    path = write_yaml(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: (top level): must be a mapping of keys to values"


def test_empty_file_reports_the_missing_keys(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, "# nothing here\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: name: is required")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert text.startswith(f"{path}: file: cannot read"), text
    assert "\n" not in text


# --- smoke ------------------------------------------------------------------------------------

SCHEDULERS: dict[str, dict[str, Any]] = {
    "fifo": {"name": "fifo"},
    "asha": {"name": "asha", "grace_period": 3, "max_t": 8, "reduction_factor": 3},
    "hyperband": {"name": "hyperband", "max_t": 8},
    "median": {"name": "median", "grace_period": 4, "min_samples_required": 2},
    "pbt": {**PBT, "perturbation_interval": 4},
}

SEARCHERS: dict[str, dict[str, Any]] = {
    "random": {"name": "random"},
    "grid": {"name": "grid"},
    "hyperopt": {"name": "hyperopt", "n_initial_points": 10},
}


def _big_config(searcher: str, scheduler: str) -> ExperimentConfig:
    """A full-size config with the named searcher and scheduler."""
    space = dict(MINIMAL["search_space"])
    if searcher == "grid":
        space["batch_size"] = {"grid": [32, 64]}
    return validate_config(
        raw(
            search_space=space,
            searcher=SEARCHERS[searcher],
            scheduler=SCHEDULERS[scheduler],
            max_epochs=10,
            num_samples=20,
            time_budget_s=3600,
            checkpoint={"frequency": 2, "num_to_keep": 3},
            dataset={"name": "digits", "train_size": 1000},
            points_to_evaluate=[{"learning_rate": 0.1, "momentum": 0.5, "batch_size": 64}],
        ),
        SOURCE,
    )


COMBOS: list[tuple[str, str]] = [
    (searcher, scheduler)
    for scheduler in SCHEDULERS
    for searcher in SEARCHERS
    if not (searcher == "hyperopt" and scheduler == "pbt")
]


@pytest.mark.parametrize(("searcher", "scheduler"), COMBOS)
def test_smoke_shrinks_and_stays_valid(searcher: str, scheduler: str) -> None:
    cfg = _big_config(searcher, scheduler)
    small = smoke(cfg)
    assert small.max_epochs == 2
    assert small.num_samples == 2
    assert small.dataset.train_size == 256
    assert small.dataset.test_size == 128
    assert small.time_budget_s is None
    assert small.checkpoint.frequency == 1
    assert small.max_t <= small.max_epochs
    grace = getattr(small.scheduler, "grace_period", None)
    assert grace is None or grace <= small.max_t
    if scheduler == "pbt":
        assert small.scheduler.perturbation_interval == 1
    if searcher == "hyperopt":
        assert small.searcher.n_initial_points == 1
    # What a run needs from the experiment is unchanged.
    assert (small.name, small.seed, small.metric, small.mode) == (
        cfg.name,
        cfg.seed,
        cfg.metric,
        cfg.mode,
    )
    assert small.search_space == cfg.search_space
    assert small.points_to_evaluate == cfg.points_to_evaluate
    assert (small.searcher.name, small.scheduler.name) == (searcher, scheduler)
    # The result passes validation again, from plain data, and smoke is idempotent.
    assert validate_config(small.model_dump(), SOURCE) == small
    assert smoke(small) == small


def test_smoke_asha_grace_above_two_stays_valid() -> None:
    cfg = validate_config(raw(max_epochs=10, scheduler={"name": "asha", "grace_period": 5}), SOURCE)
    small = smoke(cfg)
    assert small.scheduler.grace_period <= small.max_t == 2


def test_smoke_keeps_smaller_values() -> None:
    cfg = validate_config(
        raw(max_epochs=1, num_samples=1, dataset={"name": "digits", "train_size": 100})
    )
    small = smoke(cfg)
    assert (small.max_epochs, small.num_samples, small.dataset.train_size) == (1, 1, 100)


@pytest.mark.parametrize("options", [{}, {"activation": "relu", "eval_batch_size": 64}])
def test_smoke_keeps_trainable_options(options: dict[str, Any]) -> None:
    """User options survive smoke mode unless the trainable's smoke options replace them."""
    small = smoke(validate_config(raw(trainable_options=options)))
    assert small.trainable_options == {**options, **TRAINABLES["lenet"].smoke_options}


# --- command trials: a metrics format that can read the metric --------------------------------


def command(metric: str, **metrics: Any) -> dict[str, Any]:
    """The minimal config run as a command whose metrics are read as ``metrics`` says."""
    return raw(metric=metric, trainable={"command": "python train.py ${args}", "metrics": metrics})


UNREADABLE = [
    (
        "regex_without_the_metric_group",
        command("val_loss", format="regex", pattern=r"loss (?P<loss>\S+)"),
        "trainable.metrics.pattern",
        ("no group named 'val_loss'", "its groups: loss", r"(?P<val_loss>[-+.\deE]+)"),
    ),
    (
        "regex_metric_that_is_no_group_name",
        command("val/loss", format="regex", pattern=r"loss (?P<loss>\S+)"),
        "trainable.metrics.pattern",
        ("'val/loss'", "rename the metric", "metric: val_loss"),
    ),
    (
        "regex_step_that_is_no_group",
        command("loss", format="regex", pattern=r"loss (?P<loss>\S+)", step="epoch"),
        "trainable.metrics.step",
        ("'epoch' is no group", "its groups: loss", "(?P<epoch>"),
    ),
    (
        "key_value_metric_with_a_space",
        command("Average loss"),
        "metric",
        (
            "'Average loss'",
            "key_value",
            "metric: average_loss",
            r"pattern: 'Average loss: (?P<average_loss>[-+.\deE]+)'",
        ),
    ),
    (
        "key_value_metric_starting_with_a_digit",
        command("1st_loss"),
        "metric",
        ("'1st_loss'", "format: regex"),
    ),
    (
        "key_value_step_with_a_space",
        command("Loss", step="Train Epoch"),
        "trainable.metrics.step",
        ("'Train Epoch'", "step: train_epoch", "(?P<train_epoch>"),
    ),
    (
        "unknown_format",
        command("loss", format="csv"),
        "trainable.metrics.format",
        ("tensorboard",),
    ),
    (
        "empty_step",
        command("loss", step=""),
        "trainable.metrics.step",
        ("1 character",),
    ),
]


@pytest.mark.parametrize(
    ("data", "key", "fragments"), [c[1:] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE]
)
def test_a_metrics_format_that_cannot_read_the_metric_is_refused(
    data: dict[str, Any], key: str, fragments: tuple[str, ...]
) -> None:
    err = config_error(data)
    text = str(err)
    assert "\n" not in text
    assert err.key == key, text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} missing from {text!r}"


@pytest.mark.parametrize(
    "data",
    [
        command("val/loss"),
        command("top-1", step="epoch"),
        command("Average loss", format="json", step="global step"),
        command("Loss/val", format="tensorboard", step="epoch"),
        command("loss", format="regex", pattern=r"(?P<epoch>\d+) (?P<loss>\S+)", step="epoch"),
    ],
    ids=["key_value", "key_value_step", "json_any_key", "tensorboard_any_tag", "regex_step"],
)
def test_metrics_formats_that_read_the_metric_are_accepted(data: dict[str, Any]) -> None:
    spec = validate_config(data, SOURCE).trainable
    assert not isinstance(spec, str)
    assert spec.metrics.model_dump(exclude_defaults=True) == data["trainable"]["metrics"]


def test_booleans_as_flags_is_a_command_setting() -> None:
    spec = validate_config(
        raw(trainable={"command": "python train.py ${args}", "booleans": "flag"}), SOURCE
    ).trainable
    assert not isinstance(spec, str)
    assert spec.booleans == "flag"
    bad = raw(trainable={"command": "python train.py ${args}", "booleans": "store_true"})
    assert config_error(bad).key == "trainable.booleans"
