"""The dashboard's Starlette app: four pages, their JSON, plotly.js and the page scripts.

The pages (the index, an experiment, one of its trials, a study) are one HTML file of this
package, told which page it is; each fetches its JSON from ``/api`` + its own path and draws it
in the browser. A trial is named by its id, one the experiment's files hold (its folder comes
from them). Every name in a URL goes through
:meth:`Store.find <raytune_hpo.storage.stamped.Store.find>`, so nothing outside the root is
read; anything else is 404. A page whose plain name finds nothing yet is sent all the same, as
a 404 that polls until its experiment, study or trial appears. A store that fails while the page
is open (a URI's endpoint gone) answers its JSON with 503 and the one-line reason. Answers of
more than :data:`GZIP_MIN_BYTES` go gzip-compressed to browsers that accept it (the JSON of a
big experiment shrinks about threefold). Each JSON answer is built with Python's cyclic
garbage collector paused (:mod:`~raytune_hpo.gc_pause`).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from raytune_hpo.dashboard import folders
from raytune_hpo.dashboard.experiment_page import experiment_data
from raytune_hpo.dashboard.index import index_rows
from raytune_hpo.dashboard.study_page import study_data
from raytune_hpo.dashboard.trial_page import trial_data
from raytune_hpo.gc_pause import gc_paused
from raytune_hpo.storage import StorageError
from raytune_hpo.storage.stamped import Store, plain_name

STATIC = Path(str(resources.files("raytune_hpo.dashboard") / "static"))
"""The page, script and style sheet of this package."""
PLOTLY_TAG = '<script src="/static/plotly.min.js"></script>'
GZIP_MIN_BYTES = 1000
"""Smaller answers go uncompressed (compressing them saves less than it costs)."""

ASSETS = {
    "prefetch.js": "text/javascript",
    "dashboard.js": "text/javascript",
    "parallel.js": "text/javascript",
    "analysis.js": "text/javascript",
    "experiment.js": "text/javascript",
    "trial.js": "text/javascript",
    "dashboard.css": "text/css",
}


def plotly_js() -> Path:
    """plotly.js as the plotly wheel bundles it (no network at run time)."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """What ``orjson`` does not write itself: any number (a subclass of float, numpy's) as a
    plain one, any other value as its text."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


def json_body(content: Any) -> bytes:
    """``content`` as JSON that browsers parse: NaN and infinities as null (``orjson`` writes
    them so), numpy's numbers as numbers, anything else :func:`_plain`; Python's encoder for
    what ``orjson`` refuses (an integer past 64 bits)."""
    options = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    try:
        return orjson.dumps(content, default=_plain, option=options)
    except orjson.JSONEncodeError:
        return json.dumps(_finite(content), default=_plain, separators=(",", ":")).encode()


def json_response(content: Any) -> Response:
    """``content`` as JSON (:func:`json_body`), never cached."""
    body = json_body(content)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


def not_found() -> Response:
    return PlainTextResponse("not found", status_code=404)


def store_failed(request: Request, err: Exception) -> Response:
    """A store that failed while serving (a URI's endpoint gone): 503 and its one line."""
    return PlainTextResponse(str(err), status_code=503)


def create_app(root: str | Path | Store) -> Starlette:
    """The dashboard over the experiment and study folders directly under ``root``, a local
    folder or a storage URI (:func:`~raytune_hpo.dashboard.folders.open_root`), or a store."""
    store = root if isinstance(root, Store) else folders.open_root(root)

    template = (STATIC / "page.html").read_text()

    def page(kind: str, found: bool = True) -> Response:
        """The one page, told which it is (the index draws no chart: no plotly.js); one not
        ``found`` yet is a 404 that polls until it is."""
        scripts = "" if kind == "index" else PLOTLY_TAG
        html = template.replace("__SCRIPTS__", scripts).replace("__PAGE__", kind)
        headers = {"Cache-Control": "no-store"}
        return HTMLResponse(html, status_code=200 if found else 404, headers=headers)

    def page_or_waiting(request: Request, kind: str, found: bool) -> Response:
        """The page; one whose name is plain but finds nothing yet: the page as a 404."""
        if found or plain_name(request.path_params["name"]):
            return page(kind, found)
        return not_found()

    def folder_of(request: Request, kind: Callable[[Store, str], bool]) -> str | None:
        folder = store.find(request.path_params["name"])
        return folder if folder is not None and kind(store, folder) else None

    def index(request: Request) -> Response:
        return page("index")

    def experiment(request: Request) -> Response:
        found = folder_of(request, folders.is_experiment)
        return page_or_waiting(request, "experiment", found is not None)

    def study(request: Request) -> Response:
        found = folder_of(request, folders.is_study)
        return page_or_waiting(request, "study", found is not None)

    @gc_paused()
    def api_index(request: Request) -> Response:
        return json_response({"root": str(store.root), "rows": index_rows(store)})

    @gc_paused()
    def api_experiment(request: Request) -> Response:
        found = folder_of(request, folders.is_experiment)
        return json_response(experiment_data(store, found)) if found is not None else not_found()

    def trial(request: Request) -> Response:
        found = folder_of(request, folders.is_experiment)
        known = found is not None and trial_data(store, found, request.path_params["trial"])
        return page_or_waiting(request, "trial", bool(known))

    @gc_paused()
    def api_trial(request: Request) -> Response:
        found = folder_of(request, folders.is_experiment)
        data = trial_data(store, found, request.path_params["trial"]) if found else None
        return json_response(data) if data is not None else not_found()

    @gc_paused()
    def api_study(request: Request) -> Response:
        found = folder_of(request, folders.is_study)
        return json_response(study_data(store, found)) if found is not None else not_found()

    def asset(request: Request) -> Response:
        file = request.path_params["file"]
        if file == "plotly.min.js":
            return FileResponse(plotly_js(), media_type="text/javascript")
        if file not in ASSETS:
            return not_found()
        return FileResponse(STATIC / file, media_type=ASSETS[file])

    return Starlette(
        routes=[
            Route("/", index),
            Route("/experiments/{name:path}/trials/{trial}", trial),
            Route("/experiments/{name:path}", experiment),
            Route("/studies/{name:path}", study),
            Route("/api/index", api_index),
            Route("/api/experiments/{name:path}/trials/{trial}", api_trial),
            Route("/api/experiments/{name:path}", api_experiment),
            Route("/api/studies/{name:path}", api_study),
            Route("/static/{file}", asset),
        ],
        exception_handlers={StorageError: store_failed},
        middleware=[Middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=4)],
    )
