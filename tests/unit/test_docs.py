"""The documentation, checked without building the site (``make docs`` builds it strictly).

README stays a front page whose set-up commands come first, every relative link of README and
the pages leads to a file (and heading) that exists, the names of code the pages quote still
exist, and the configuration reference covers every key of the config schema.
"""

from __future__ import annotations

import importlib.util
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
PAGES = sorted((REPO / "docs" / "pages").glob("*.md"))
LINKED_DOCS = [README, *PAGES, REPO / "docs" / "CHANGELOG.md", REPO / "BENCHMARKS.md"]
"""Markdown files whose relative links must hold, on GitHub and in the site."""

LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of every line outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            yield number, line


def fenced_blocks(path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(line number of the opening fence, lines inside)`` of every fenced code block."""
    start, block = 0, None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if FENCE.match(line):
            if block is None:
                start, block = number, []
            else:
                yield start, block
                block = None
        elif block is not None:
            block.append(line)


def github_slug(heading: str) -> str:
    """The anchor GitHub (and MkDocs' default ``toc``, for these headings) gives a heading."""
    text = heading.replace("`", "").replace("*", "").strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for _, line in prose_lines(path):
        if match := HEADING.match(line):
            slug = github_slug(match.group(2))
            count = 0
            unique = slug
            while unique in found:
                count += 1
                unique = f"{slug}-{count}"
            found.add(unique)
    return found


def relative_links(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in prose_lines(path):
        without_code = CODE_SPAN.sub("", line)
        for match in LINK.finditer(without_code):
            target = match.group(1)
            if "://" in target or target.startswith(("mailto:", "/")):
                continue
            yield number, target


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_reference", REPO / "docs" / "gen_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- README -------------------------------------------------------------------------------------


def test_readme_is_a_front_page() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move detail to docs/pages/"


def test_readme_shows_the_set_up_commands_first() -> None:
    first = [(start, block) for start, block in fenced_blocks(README) if start <= 40]
    commands = [line.split("#")[0].strip() for _, block in first for line in block]
    assert "make demo" in commands and "make test" in commands, (
        "README.md's first 40 lines must show the two set-up commands in a code block"
    )
    for _, block in first:
        assert all(line.split("#")[0].strip() in commands for line in block)


def test_commands_the_docs_show_exist() -> None:
    """Every ``make TARGET`` and ``pip install '.[EXTRA]'`` shown names a real target or extra."""
    targets = set(re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(), re.M))
    pyproject = (REPO / "pyproject.toml").read_text()
    section = pyproject.split("[project.optional-dependencies]")[1].split("\n[")[0]
    extras = set(re.findall(r"^([\w-]+) = \[", section, re.M))
    for path in [README, *PAGES]:
        text = path.read_text()
        for target in re.findall(r"(?<![\w-])make ([\w-]+)", text):
            assert target in targets, f"{path.name} shows `make {target}`: no such target"
        for group in re.findall(r"pip install[^\n`]*?\.\[([\w,]+)\]", text):
            for extra in group.split(","):
                assert extra in extras, f"{path.name} installs the extra {extra!r}: none such"


# --- links --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", LINKED_DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_lead_to_files_and_headings(path: Path) -> None:
    broken = []
    for number, target in relative_links(path):
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.is_file():
            broken.append(f"line {number}: {target} (no such file)")
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            broken.append(f"line {number}: {target} (no heading #{fragment})")
    assert not broken, f"{path.relative_to(REPO)}: " + "; ".join(broken)


def test_every_page_is_in_the_nav() -> None:
    nav = (REPO / "docs" / "mkdocs.yml").read_text()
    for page in PAGES:
        assert re.search(rf":\s+{re.escape(page.name)}\s*$", nav, re.M), (
            f"docs/pages/{page.name} is missing from the nav of docs/mkdocs.yml"
        )


# --- names of code ------------------------------------------------------------------------------

REPO_PATH = re.compile(r"^(raytune_hpo|tests|experiments|configs|docs)/[\w./-]*$")
DOTTED = re.compile(r"^raytune_hpo(\.\w+)+$")
FILE_SUFFIXES = ("yaml", "yml", "json", "jsonl", "py", "md", "png", "csv", "txt")
"""Last parts that make a dotted name a file name (``raytune_hpo.yaml``), not a module."""


def names_of_code(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in prose_lines(path):
        for match in CODE_SPAN.finditer(line):
            span = match.group(1).strip()
            dotted = DOTTED.match(span) and span.rsplit(".", 1)[1] not in FILE_SUFFIXES
            if (REPO_PATH.match(span) and not span.startswith("docs/site/")) or dotted:
                yield number, span


def dotted_name_exists(name: str) -> bool:
    """``raytune_hpo.a.b`` is a module or package, or ``raytune_hpo.a.b.NAME`` one defined
    (or imported) at the top of such a module, read without importing it."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        base = REPO.joinpath(*parts[:cut])
        source = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        if source.is_file():
            rest = parts[cut:]
            if not rest:
                return True
            text = source.read_text()
            return len(rest) == 1 and re.search(rf"\b{re.escape(rest[0])}\b", text) is not None
    return False


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda p: p.name)
def test_code_the_pages_name_exists(path: Path) -> None:
    missing = []
    for number, name in names_of_code(path):
        exists = dotted_name_exists(name) if DOTTED.match(name) else (REPO / name).exists()
        if not exists:
            missing.append(f"line {number}: {name}")
    assert not missing, f"{path.name} names code that is not there: " + "; ".join(missing)


def test_the_exit_codes_page_lists_every_exit_code() -> None:
    from raytune_hpo import errors

    page = (REPO / "docs" / "pages" / "errors.md").read_text()
    codes = {value for key, value in vars(errors).items() if key.startswith("EXIT_")}
    for code in codes:
        assert re.search(rf"^\| {code} \|", page, re.M), f"errors.md lacks exit code {code}"


# --- configuration reference --------------------------------------------------------------------


def schema_keys() -> set[str]:
    """Every key a YAML file may hold, walked from the models themselves."""
    from raytune_hpo.config.schema import ExperimentConfig
    from raytune_hpo.demos.trainables import TRAINABLES
    from raytune_hpo.search.schedulers import SCHEDULERS
    from raytune_hpo.search.searchers import SEARCHERS

    def walk(model: type[BaseModel], prefix: str) -> Iterator[str]:
        for name, field in model.model_fields.items():
            yield prefix + name
            annotation = field.annotation
            while typing.get_origin(annotation) is typing.Annotated:
                annotation = typing.get_args(annotation)[0]
            for part in typing.get_args(annotation) or (annotation,):
                while typing.get_origin(part) is typing.Annotated:
                    part = typing.get_args(part)[0]
                if isinstance(part, type) and issubclass(part, BaseModel):
                    yield from walk(part, f"{prefix}{name}.")

    keys = set(walk(ExperimentConfig, ""))
    for section, registry in (("searcher", SEARCHERS), ("scheduler", SCHEDULERS)):
        for entry in registry.values():
            keys |= {f"{section}.{key}" for key in entry.options.model_fields}
    for spec in TRAINABLES.values():
        keys |= {f"trainable_options.{key}" for key in spec.options.model_fields}
    return keys


def test_configuration_reference_is_up_to_date() -> None:
    generator = load_generator()
    current = generator.PAGE.read_text()
    assert current == generator.page_with_reference(current), (
        "docs/pages/configuration.md is out of date: run python docs/gen_reference.py"
    )


def test_configuration_reference_names_every_key_of_the_schema() -> None:
    page = (REPO / "docs" / "pages" / "configuration.md").read_text()
    named = set(re.findall(r"^\| `([\w.]+)` \|", page, re.M))
    keys = schema_keys()
    assert "dataset.val_fraction" in keys and "trainable.metrics.format" in keys
    assert not sorted(keys - named), f"configuration.md lacks {sorted(keys - named)}"
