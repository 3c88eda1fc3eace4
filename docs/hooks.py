"""MkDocs hooks of ``docs/mkdocs.yml``: repository files in the site, and a current reference.

- ``docs/CHANGELOG.md`` and ``BENCHMARKS.md`` join the site as ``changelog.md`` and
  ``benchmarks.md`` (they live outside ``docs/pages``, where GitHub readers look for them).
- A page's relative link is written against the page's real file, so that it works on GitHub
  too: ``../../BENCHMARKS.md`` from ``docs/pages/performance.md``. Each such link to a file of
  the repository outside ``docs/pages`` is pointed at that file's place in the site, and a file
  that is no page (a YAML config, a script, a plot) is copied into the site under ``repo/``. A
  link to a file that does not exist is left alone, for ``strict`` to fail on.
- The build fails when the generated tables of ``configuration.md`` are out of date
  (``python docs/gen_reference.py`` rewrites them).
- The docstrings on the API page name objects with Sphinx's roles (``:func:`run```); the role
  is dropped and the name kept as code (``~a.b.c`` as ``c``).
"""

from __future__ import annotations

import importlib.util
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
EXTRA_PAGES = {
    REPO / "docs" / "CHANGELOG.md": "changelog.md",
    REPO / "BENCHMARKS.md": "benchmarks.md",
}
"""Markdown files of the repository shown as pages of the site, and their names there."""

LINK = re.compile(r"(\]\()([^)\s]+)(\))")
"""The target of an inline Markdown link or image: ``](target)``."""
FENCE = re.compile(r"^\s*(```|~~~)")
ROLE = re.compile(r":(?:func|meth|class|mod|attr|exc|data):<code>(~?)([^<]*)</code>")
"""A Sphinx role as a docstring's Markdown renders it: ``:func:<code>run</code>``."""

_site_uri: dict[Path, str] = {}
"""A repository file -> its path in the site, filled by :func:`on_files`."""


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outside_fences(markdown: str) -> list[tuple[bool, str]]:
    """The page's lines, each with whether it is prose (not inside a fenced code block)."""
    lines, fenced = [], False
    for line in markdown.splitlines(keepends=True):
        if FENCE.match(line):
            fenced = not fenced
            lines.append((False, line))
        else:
            lines.append((not fenced, line))
    return lines


def _targets(source: Path) -> list[Path]:
    """The existing repository files that ``source``'s relative links point to."""
    found = []
    for prose, line in _outside_fences(source.read_text()):
        for match in LINK.finditer(line) if prose else ():
            path = match.group(2).partition("#")[0]
            if not path or "://" in path or path.startswith(("/", "mailto:")):
                continue
            target = (source.parent / path).resolve()
            if target.is_file() and REPO in target.parents:
                found.append(target)
    return found


def on_pre_build(config: Any) -> None:
    """Fail the build when the configuration reference is out of date."""
    generator = _load_generator()
    try:
        current = generator.PAGE.read_text()
        stale = current != generator.page_with_reference(current)
    except (KeyError, ValueError, TypeError) as err:
        raise PluginError(f"docs/gen_reference.py: {err}") from err
    if stale:
        raise PluginError(
            "docs/pages/configuration.md is out of date with the config schema: run "
            "python docs/gen_reference.py"
        )


def on_files(files: Files, config: Any) -> Files:
    """Add the extra pages, and the repository files the pages link to, to the site."""
    docs_dir = Path(config["docs_dir"]).resolve()
    _site_uri.clear()
    for file in files:
        if file.abs_src_path:
            _site_uri[Path(file.abs_src_path).resolve()] = file.src_uri
    for source, uri in EXTRA_PAGES.items():
        files.append(File.generated(config, uri, abs_src_path=str(source)))
        _site_uri[source] = uri
    sources = [p for p in _site_uri if p.suffix == ".md"]
    for source in sources:
        for target in _targets(source):
            if target in _site_uri or docs_dir in target.parents:
                continue
            uri = "repo/" + target.relative_to(REPO).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(target)))
            _site_uri[target] = uri
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Point each relative link at its target's place in the site."""
    source = Path(page.file.abs_src_path).resolve()
    here = posixpath.dirname(page.file.src_uri)

    def rewrite(match: re.Match[str]) -> str:
        path, hash_, fragment = match.group(2).partition("#")
        if not path or "://" in path or path.startswith(("/", "mailto:")):
            return match.group(0)
        uri = _site_uri.get((source.parent / path).resolve())
        if uri is None:
            return match.group(0)
        return f"{match.group(1)}{posixpath.relpath(uri, here or '.')}{hash_}{fragment})"

    return "".join(
        LINK.sub(rewrite, line) if prose else line for prose, line in _outside_fences(markdown)
    )


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """Drop the Sphinx roles of the docstrings rendered into the page, keeping the names."""

    def plain(match: re.Match[str]) -> str:
        name = match.group(2).rpartition(".")[2] if match.group(1) else match.group(2)
        return f"<code>{name}</code>"

    return ROLE.sub(plain, html)
