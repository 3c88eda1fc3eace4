// The dashboard's pages: each fetches "/api" + its own path and draws it; a running experiment
// or study is fetched again every few seconds and redrawn in place (Plotly.react), no reload.
// This file holds what every page uses, the index and the study; experiment.js and trial.js
// hold theirs. It runs last and starts the page that body's data-page names.
"use strict";

const POLL_MS = 2000;
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
  "#7f7f7f", "#bcbd22", "#17becf"];
const ERRORED_COLOR = "#d62728";
const PLOT_CONFIG = { displaylogo: false, responsive: true };
const WAITING = "Waiting for the first report";
const NOT_YET = "not here yet (a page opened before its run wrote it)";
const PAGE_ROWS = 200;  // a table's rows per page: 10,000 trials draw as fast as 200

function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function fmt(value) {
  if (value === null || value === undefined) return "-";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    if (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3) return value.toExponential(3);
    return String(Number(value.toPrecision(4)));
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function when(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleString() : "-";
}

// A status or a trial's end kind ("stopped early") as a badge; its class has dashes for spaces.
// text: what it says instead ("3 errored").
function badge(status, text) {
  return `<span class="badge ${esc(String(status).replace(/ /g, "-"))}">${esc(text === undefined ? status : text)}</span>`;
}

function el(id) {
  return document.getElementById(id);
}

// A table whose header sorts (click again: the other way) and whose rows keep that order when
// the data is redrawn; more than PAGE_ROWS rows are shown a page at a time (the page is kept
// across redraws). columns: [{key, label, num, cls, html(row)}]; rowClass(row) names a row's
// class, rowKey(row) its data-key (what a click on the row reports).
function drawTable(holder, columns, rows, rowClass, rowKey) {
  const state = holder._sort || { key: null, dir: 1, page: 0 };
  holder._sort = state;
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
  state.page = Math.min(state.page, pages - 1);
  const sorted = rows.slice();
  if (state.key !== null) {
    sorted.sort((a, b) => {
      const x = a[state.key], y = b[state.key];
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * state.dir;
    });
  }
  const head = columns.map((c) => {
    const cls = state.key === c.key ? (state.dir > 0 ? "sorted-asc" : "sorted-desc") : "";
    return `<th data-key="${esc(c.key)}" class="${cls}">${esc(c.label)}</th>`;
  }).join("");
  const first = state.page * PAGE_ROWS;
  const body = sorted.slice(first, first + PAGE_ROWS).map((row) => {
    const cells = columns.map((c) => {
      const content = c.html ? c.html(row) : esc(fmt(row[c.key]));
      return `<td class="${c.num ? "num" : ""} ${c.cls || ""}">${content}</td>`;
    }).join("");
    const key = rowKey ? ` data-key="${esc(rowKey(row))}"` : "";
    return `<tr class="${rowClass ? rowClass(row) : ""}"${key}>${cells}</tr>`;
  }).join("");
  const pager = pages === 1 ? "" : `<div class="pager muted">rows ${first + 1}-${Math.min(first + PAGE_ROWS, rows.length)}
    of ${rows.length} <button data-step="-1"${state.page ? "" : " disabled"}>previous</button>
    <button data-step="1"${state.page < pages - 1 ? "" : " disabled"}>next</button></div>`;
  holder.innerHTML = `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${pager}`;
  holder.querySelectorAll("th").forEach((th) => th.addEventListener("click", () => {
    state.dir = state.key === th.dataset.key ? -state.dir : 1;
    state.key = th.dataset.key;
    state.page = 0;
    drawTable(holder, columns, rows, rowClass, rowKey);
  }));
  holder.querySelectorAll(".pager button").forEach((b) => b.addEventListener("click", () => {
    state.page += Number(b.dataset.step);
    drawTable(holder, columns, rows, rowClass, rowKey);
  }));
}

// Draw or redraw a chart in place. uirevision keeps what the user did (zoom, pan, hidden
// traces, brushed axes) across the redraws of a live page.
function plot(id, traces, layout) {
  const base = { margin: { l: 60, r: 20, t: 40, b: 48 }, hovermode: "closest", showlegend: false,
    font: { size: 12 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff", uirevision: window.location.pathname };
  Plotly.react(el(id), traces, Object.assign(base, layout), PLOT_CONFIG);
}

// A chart with nothing to draw yet: a line of text instead of empty axes.
function plotWaiting(id, title) {
  plot(id, [], { title: { text: title, font: { size: 14 }, x: 0.01, xanchor: "left" },
    xaxis: { visible: false }, yaxis: { visible: false },
    annotations: [{ text: WAITING, showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5,
      font: { size: 15, color: "#66707a" } }] });
}

// The colour of the i-th trial: ten distinct ones, then hues a golden angle apart.
function trialColor(index) {
  return index < PALETTE.length ? PALETTE[index] : `hsl(${Math.round((index * 137.508) % 360)}, 62%, 42%)`;
}

// Round values from lo to hi (both > 0) for a log axis, written in full: the powers of ten when
// there are three or more, else 1-2-5 steps, with the ends when fewer than two are inside
// (Plotly's own ticks would read "2 5 0.1 2 5").
function logTicks(lo, hi) {
  const steps = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e += 1) {
    for (const m of [1, 2, 5]) steps.push(Number((m * 10 ** e).toPrecision(3)));
  }
  const inside = steps.filter((t) => t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9));
  const decades = inside.filter((t) => Number.isInteger(Math.log10(t)) || Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9);
  const ticks = decades.length >= 3 ? decades : (inside.length >= 2 ? inside : [...new Set([lo, ...inside, hi])]);
  return { tickmode: "array", tickvals: ticks, ticktext: ticks.map(fmt) };
}

// A y axis of these values: a log one with readable ticks when asked and every value is > 0.
function valueAxis(values, log, title) {
  const known = values.filter((v) => v !== null && v !== undefined);
  if (!log || !known.length || Math.min(...known) <= 0) return { title: { text: title }, type: "linear" };
  return Object.assign({ title: { text: `${title}, log scale` }, type: "log" }, logTicks(Math.min(...known), Math.max(...known)));
}

// The traceback of a failed trial, folded: its error line shows; opened, it shows its end
// first (scrolled to the bottom, where the exception is). open: the trial ids kept open.
function tracebackBox(trialId, summary, traceback, open) {
  return `<details class="traceback" data-trial="${esc(trialId)}"${open.has(trialId) ? " open" : ""}>` +
    `<summary>${summary}</summary><pre>${esc(traceback)}</pre></details>`;
}

function followTracebacks(holder, open) {
  holder.querySelectorAll("details.traceback").forEach((box) => {
    const pre = box.querySelector("pre");
    if (box.open) pre.scrollTop = pre.scrollHeight;
    box.addEventListener("toggle", () => {
      if (box.open) { open.add(box.dataset.trial); pre.scrollTop = pre.scrollHeight; } else open.delete(box.dataset.trial);
    });
  });
}

// Fetch the page's JSON and draw it; while draw says the data may change (a running experiment,
// files caught half written, the index), fetch and draw again. body's data-updates counts draws.
// A page not there yet (404: opened before its experiment exists) is fetched again until it is.
// The first answer is the one prefetch.js asked for while the scripts loaded.
function follow(draw) {
  const url = pageDataUrl();
  let updates = 0;
  async function tick() {
    let running = true;
    const started = performance.now();
    const asked = window.prefetched || fetch(url, { cache: "no-store" });
    window.prefetched = null;
    try {
      const response = await asked;
      if (response.status === 404) throw new Error(NOT_YET);
      if (!response.ok) throw new Error(`cannot read: ${response.status} ${response.statusText}`);
      const data = await response.json();
      running = draw(data, updates === 0);
      updates += 1;
      document.body.dataset.updates = String(updates);
      el("live").textContent = running ? `live, updated ${new Date().toLocaleTimeString()}` : "";
    } catch (err) {
      el("live").textContent = `${err.message}; retrying`;
    }
    // A big experiment takes a while to read and draw: poll no more than a quarter of the time.
    if (running) setTimeout(tick, Math.max(POLL_MS, 3 * (performance.now() - started)));
  }
  tick();
}

// Trials by how they ended, as badges ("7 finished", "7 errored").
function endBadges(counts) {
  return counts.map(([status, n]) => badge(status, `${n} ${status}`)).join(" ");
}

// "runs 3 of 4" (of: 0 when the study's plan is not known).
function runsOf(runs, of) {
  return of ? `runs ${runs} of ${of}` : `runs ${runs}`;
}

function indexPage() {
  el("main").innerHTML = `<h1>Experiments and studies</h1><p class="muted" id="root"></p><div id="rows" class="wide"></div>`;
  const columns = [
    { key: "name", label: "name", html: (r) => `<a href="${esc(r.url)}">${esc(r.name)}</a>` },
    { key: "kind", label: "kind" },
    { key: "status", label: "status", html: (r) => badge(r.status) },
    { key: "method", label: "method" },
    { key: "trials", label: "trials", num: true, html: (r) => esc(r.trials) +
      (r.kind === "study" ? ` <span class="muted">${esc(runsOf(r.runs, r.planned))}</span>` : "") },
    { key: "counts", label: "ended", html: (r) => endBadges(r.counts) },
    { key: "best", label: "best", num: true, html: (r) => `${esc(fmt(r.best))} <span class="muted">${esc(r.metric)}</span>` },
    { key: "updated", label: "last update", html: (r) => esc(when(r.updated)) },
  ];
  follow((data) => {
    el("root").textContent = data.rows.length ? `${data.rows.length} under ${data.root}, newest first`
      : `No experiments or studies under ${data.root} yet: they appear here as runs write them.`;
    drawTable(el("rows"), columns, data.rows);
    return true;  // new experiments appear
  });
}

function studyPage() {
  el("main").innerHTML = `<h1 id="title"></h1><div class="facts" id="facts"></div><p id="error" class="muted"></p>
    <h2>Best so far against wall-clock, over seeds</h2><div class="card"><div id="anytime" class="chart"></div></div>
    <h2>Methods</h2><div id="methods" class="scroll"></div><h2>Runs</h2><div id="runs" class="scroll"></div>`;
  follow((data) => {
    document.title = `${data.name} · raytune-hpo`;
    el("crumb").textContent = `/ ${data.name}`;
    el("title").textContent = `study ${data.name}`;
    el("facts").innerHTML = `<div>${badge(data.status)}</div><div id="runs-of">${esc(runsOf(data.runs.length, data.planned))}</div>
      <div><b>metric</b> ${esc(data.metric)} (${esc(data.mode)})</div><div><b>best</b> ${esc(fmt(data.best))}</div>
      <div>${endBadges(data.counts)}</div>`;
    el("error").textContent = data.error ? `a run is being written (${data.error}); retrying` : "";
    const methods = [...new Set(data.anytime.map((r) => r.method))];
    const traces = methods.flatMap((m, i) => {
      const rows = data.anytime.filter((r) => r.method === m);
      const x = rows.map((r) => r.elapsed_s), color = PALETTE[i % PALETTE.length];
      return [
        { x, y: rows.map((r) => r.lo), type: "scatter", mode: "lines", line: { width: 0 }, hoverinfo: "skip", legendgroup: m, showlegend: false },
        { x, y: rows.map((r) => r.hi), type: "scatter", mode: "lines", line: { width: 0 }, fill: "tonexty",
          fillcolor: color + "33", hoverinfo: "skip", legendgroup: m, showlegend: false },
        { x, y: rows.map((r) => r.mean), type: "scatter", mode: "lines", line: { color, width: 2.5 }, name: `${m} (mean, min-max)`,
          legendgroup: m, hovertemplate: `${m}<br>%{x:.1f} s: %{y}<extra></extra>` },
      ];
    });
    // A metric that stays positive reads best on a log scale, as the comparison's own plot has it.
    const log = data.anytime.length > 0 && data.anytime.every((r) => r.lo > 0);
    const values = data.anytime.flatMap((r) => [r.lo, r.hi]);
    plot("anytime", traces, { showlegend: true, xaxis: { title: { text: "wall-clock (s)" } },
      yaxis: valueAxis(values, log, `best ${data.metric} so far`), legend: { orientation: "h", y: -0.22 } });
    const keys = data.methods.length ? Object.keys(data.methods[0]) : [];
    drawTable(el("methods"), keys.map((k) => ({ key: k, label: k, num: k !== "method" })), data.methods);
    drawTable(el("runs"), [
      { key: "experiment", label: "run", html: (r) => `<a href="${esc(r.url)}">${esc(r.experiment)}</a>` },
      { key: "method", label: "method" }, { key: "seed", label: "seed", num: true },
      { key: "final", label: `best ${data.metric}`, num: true }, { key: "trials_started", label: "trials", num: true },
      { key: "epochs", label: "epochs", num: true }, { key: "wall_time_s", label: "wall time (s)", num: true },
    ], data.runs);
    return data.status === "running" || Boolean(data.error);
  });
}

({ index: indexPage, experiment: experimentPage, trial: trialPage, study: studyPage })[document.body.dataset.page]();
