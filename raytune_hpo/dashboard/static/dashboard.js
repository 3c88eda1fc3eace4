// The dashboard's pages: each fetches "/api" + its own path and draws it; a running experiment
// or study is fetched again every few seconds and redrawn in place (Plotly.react), no reload.
"use strict";

const POLL_MS = 2000;
const BEST = "#e8590c";
const OTHERS = "rgba(60, 110, 170, 0.45)";
const PALETTE = ["#1f77b4", "#e8590c", "#2ca02c", "#9467bd", "#d62728", "#8c564b", "#17becf"];
const MANY_POINTS = 5000;
const PLOT_CONFIG = { displaylogo: false, responsive: true };

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
function badge(status) {
  return `<span class="badge ${esc(String(status).replace(/ /g, "-"))}">${esc(status)}</span>`;
}

function el(id) {
  return document.getElementById(id);
}

// A table whose header sorts (click again: the other way) and whose rows keep that order when
// the data is redrawn. columns: [{key, label, num, html(row)}].
function drawTable(holder, columns, rows, rowClass) {
  const state = holder._sort || { key: null, dir: 1 };
  holder._sort = state;
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
  const body = sorted.map((row) => {
    const cells = columns.map((c) => {
      const content = c.html ? c.html(row) : esc(fmt(row[c.key]));
      return `<td class="${c.num ? "num" : ""}">${content}</td>`;
    }).join("");
    return `<tr class="${rowClass ? rowClass(row) : ""}">${cells}</tr>`;
  }).join("");
  holder.innerHTML = `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  holder.querySelectorAll("th").forEach((th) => th.addEventListener("click", () => {
    state.dir = state.key === th.dataset.key ? -state.dir : 1;
    state.key = th.dataset.key;
    drawTable(holder, columns, rows, rowClass);
  }));
}

function plot(id, traces, layout) {
  const base = { margin: { l: 60, r: 20, t: 40, b: 48 }, hovermode: "closest", showlegend: false,
    font: { size: 12 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff" };
  Plotly.react(el(id), traces, Object.assign(base, layout), PLOT_CONFIG);
}

// Fetch the page's JSON and draw it; while draw says the data may change (a running experiment,
// files caught half written, the index), fetch and draw again. body's data-updates counts draws.
function follow(draw) {
  const path = window.location.pathname;
  const url = path === "/" ? "/api/index" : "/api" + path;
  let updates = 0;
  async function tick() {
    let running = true;
    const started = performance.now();
    try {
      const response = await fetch(url, { cache: "no-store" });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      const data = await response.json();
      running = draw(data, updates === 0);
      updates += 1;
      document.body.dataset.updates = String(updates);
      el("live").textContent = running ? `live, updated ${new Date().toLocaleTimeString()}` : "";
    } catch (err) {
      el("live").textContent = `cannot read: ${err.message}; retrying`;
    }
    // A big experiment takes a while to read and draw: poll no more than a quarter of the time.
    if (running) setTimeout(tick, Math.max(POLL_MS, 3 * (performance.now() - started)));
  }
  tick();
}

function indexPage() {
  el("main").innerHTML = `<h1>Experiments and studies</h1><p class="muted" id="root"></p><div id="rows"></div>`;
  const columns = [
    { key: "name", label: "name", html: (r) => `<a href="${esc(r.url)}">${esc(r.name)}</a>` },
    { key: "kind", label: "kind" },
    { key: "status", label: "status", html: (r) => badge(r.status) },
    { key: "method", label: "method" },
    { key: "trials", label: "trials", num: true },
    { key: "best", label: "best", num: true, html: (r) => `${esc(fmt(r.best))} <span class="muted">${esc(r.metric)}</span>` },
    { key: "updated", label: "last update", html: (r) => esc(when(r.updated)) },
  ];
  follow((data) => {
    el("root").textContent = `${data.rows.length} under ${data.root}, newest first`;
    drawTable(el("rows"), columns, data.rows);
    return true;  // new experiments appear
  });
}

function experimentLayout() {
  el("main").innerHTML = `
    <h1 id="title"></h1><div class="facts" id="facts"></div>
    <h2>Learning curves</h2>
    <div class="grid"><div class="card"><div id="by-epoch" class="chart"></div></div>
    <div class="card"><div id="by-time" class="chart"></div></div></div>
    <h2>Hyperparameters against the metric</h2><div class="card"><div id="parcoords" class="chart"></div></div>
    <div id="pbt-section" hidden><h2>Perturbations (PBT)</h2>
    <div class="card"><div id="pbt" class="chart"></div></div><div id="pbt-table" class="scroll"></div></div>
    <h2>Best trial</h2><div id="best"></div>
    <h2>Trials</h2><div class="toolbar">status <select id="status-filter"><option value="">all</option></select>
    <span id="shown" class="muted"></span></div><div id="trials" class="scroll"></div>
    <div id="errors-section" hidden><h2>Failed trials</h2><div id="errors"></div></div>`;
}

function drawCurves(data) {
  const c = data.curves, b = data.best_curve;
  const many = c.value.length > MANY_POINTS;  // WebGL, lines only: a thousand trials stay quick
  for (const [id, axis, title] of [["by-epoch", "epoch", "epoch"], ["by-time", "elapsed_s", "wall-clock (s since start)"]]) {
    const traces = [{ x: c[axis], y: c.value, text: c.trial, mode: many ? "lines" : "lines+markers",
      type: many ? "scattergl" : "scatter", name: "trials",
      line: { color: OTHERS, width: 1.2 }, marker: { size: 3, color: OTHERS }, connectgaps: false,
      hovertemplate: "%{text}<br>%{x}: %{y}<extra></extra>" }];
    if (b) traces.push({ x: b[axis], y: b.value, text: b.trial, mode: "lines+markers", type: "scatter",
      name: `best ${data.best_trial}`, line: { color: BEST, width: 3 }, marker: { size: 6, color: BEST },
      hovertemplate: "best %{text}<br>%{x}: %{y}<extra></extra>" });
    plot(id, traces, { title: { text: `${data.metric} by ${axis === "epoch" ? "epoch" : "wall-clock"}`, font: { size: 14 }, x: 0.01, xanchor: "left" },
      xaxis: { title: { text: title } }, yaxis: { title: { text: data.metric } }, showlegend: Boolean(b),
      legend: { orientation: "h", y: -0.22 } });
  }
}

function drawParcoords(data) {
  if (!data.parcoords.length) return;
  const metric = data.parcoords[data.parcoords.length - 1].values;
  plot("parcoords", [{ type: "parcoords", dimensions: data.parcoords,
    line: { color: metric, colorscale: "Viridis", reversescale: data.mode === "min", showscale: true,
      colorbar: { title: { text: data.metric } } } }], { margin: { l: 70, r: 70, t: 50, b: 30 } });
}

function drawPerturbations(data) {
  const records = data.perturbations;
  el("pbt-section").hidden = records.length === 0;
  if (!records.length) return;
  const trials = [...new Set(data.trial_rows.map((t) => t.trial_id))];
  const change = (r) => Object.keys(r.new || {}).map((k) => `${k}: ${fmt((r.old || {})[k])} → ${fmt(r.new[k])}`).join("<br>");
  const traces = trials.map((id, i) => {
    const own = records.filter((r) => r.trial_id === id);
    return { x: own.map((r) => r.training_iteration), y: own.map(() => id), type: "scatter", mode: "markers",
      marker: { size: 11, symbol: "diamond", color: PALETTE[i % PALETTE.length] }, name: id,
      text: own.map((r) => `${id} ← ${r.donor_id} (its epoch ${r.donor_iteration})<br>${change(r)}`),
      hovertemplate: "epoch %{x}<br>%{text}<extra></extra>" };
  });
  const epochs = data.trial_rows.map((t) => ({ x: [0, t.epochs], y: [t.trial_id, t.trial_id], type: "scatter",
    mode: "lines", line: { color: "#c9d1da", width: 2 }, hoverinfo: "skip" }));
  const height = Math.max(260, 30 * trials.length + 120);
  el("pbt").style.height = `${height}px`;
  plot("pbt", [...epochs, ...traces], { title: { text: "exploits per trial (◆: copied a donor, then explored)", font: { size: 14 }, x: 0.01, xanchor: "left" },
    xaxis: { title: { text: "epoch" } }, yaxis: { type: "category", automargin: true }, height });
  const params = [...new Set(records.flatMap((r) => Object.keys(r.new || {})))];
  drawTable(el("pbt-table"), [
    { key: "time", label: "time", html: (r) => esc(when(r.time)) },
    { key: "trial_id", label: "trial" }, { key: "donor_id", label: "donor" },
    { key: "training_iteration", label: "epoch", num: true }, { key: "donor_iteration", label: "donor epoch", num: true },
    ...params.map((p) => ({ key: p, label: p, html: (r) => esc(`${fmt((r.old || {})[p])} → ${fmt((r.new || {})[p])}`) })),
  ], records);
}

function drawBest(data) {
  const s = data.best_summary;
  if (!data.best_trial) { el("best").innerHTML = `<p class="muted">no reports yet</p>`; return; }
  const row = data.trial_rows.find((t) => t.trial_id === data.best_trial) || {};
  const config = (s && s.config) || row.config;
  const value = s ? s[data.metric] : row.best;
  const scores = s && s.test && typeof s.test === "object" ? Object.entries(s.test).map(([k, v]) => `${k} ${fmt(v)}`).join(", ") : s && fmt(s.test);
  const test = s && s.test ? `<div><b>test score</b> ${esc(scores)}</div>` : `<div class="muted">no test score${s ? "" : " yet (written when the experiment ends)"}</div>`;
  el("best").innerHTML = `<div class="card"><div class="facts"><div><b>trial</b> ${esc(data.best_trial)}</div>
    <div><b>${esc(data.metric)}</b> ${esc(fmt(value))}</div>${test}</div><pre>${esc(JSON.stringify(config, null, 2))}</pre></div>`;
}

function drawTrials(data) {
  const filter = el("status-filter");
  const statuses = [...new Set(data.trial_rows.map((t) => t.status))].sort();
  const known = [...filter.options].map((o) => o.value);
  statuses.filter((s) => !known.includes(s)).forEach((s) => filter.add(new Option(s, s)));
  const rows = data.trial_rows.filter((t) => !filter.value || t.status === filter.value)
    .map((t) => Object.assign({}, t, Object.fromEntries(data.params.map((p) => [`config/${p}`, t.config[p]]))));
  el("shown").textContent = `${rows.length} of ${data.trial_rows.length} trials`;
  drawTable(el("trials"), [
    { key: "trial_id", label: "trial", html: (r) => `<span class="trial-id">${esc(r.trial_id)}</span>` },
    { key: "status", label: "status", html: (r) => badge(r.status) },
    { key: "end", label: "end", html: (r) => esc(r.end || "-") },
    ...data.params.map((p) => ({ key: `config/${p}`, label: p, num: true })),
    { key: "epochs", label: "epochs", num: true },
    { key: "last", label: `last ${data.metric}`, num: true },
    { key: "best", label: `best ${data.metric}`, num: true },
    { key: "worker_time_s", label: "worker time (s)", num: true },
  ], rows, (r) => (r.trial_id === data.best_trial ? "best" : ""));
  const failed = data.trial_rows.filter((t) => t.error);
  el("errors-section").hidden = failed.length === 0;
  el("errors").innerHTML = failed.map((t) => `<details open><summary>${esc(t.trial_id)}${t.end ? ` ${esc(t.end)}` : ""}</summary><pre class="error">${esc(t.error)}</pre></details>`).join("");
}

function experimentPage() {
  experimentLayout();
  let latest = null;
  el("status-filter").addEventListener("change", () => latest && drawTrials(latest));
  follow((data, first) => {
    latest = data;
    if (first) document.body.dataset.firstTrials = String(data.trial_rows.length);
    document.title = `${data.name} · raytune-hpo`;
    el("crumb").textContent = `/ ${data.name}`;
    el("title").textContent = data.name;
    el("facts").innerHTML = `<div>${badge(data.status)}</div><div><b>method</b> ${esc(data.method)}</div>
      <div><b>metric</b> ${esc(data.metric)} (${esc(data.mode)})</div><div><b>trials</b> ${data.trial_rows.length}</div>
      <div><b>best</b> ${esc(fmt(data.best))}</div><div><b>last update</b> ${esc(when(data.updated))}</div>`;
    drawCurves(data);
    drawParcoords(data);
    drawPerturbations(data);
    drawBest(data);
    drawTrials(data);
    return data.status === "running";
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
    el("facts").innerHTML = `<div>${badge(data.status)}</div><div><b>runs</b> ${data.runs.length}</div>
      <div><b>metric</b> ${esc(data.metric)} (${esc(data.mode)})</div><div><b>best</b> ${esc(fmt(data.best))}</div>`;
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
    plot("anytime", traces, { showlegend: true, xaxis: { title: { text: "wall-clock (s)" } },
      yaxis: { title: { text: `best ${data.metric} so far${log ? ", log scale" : ""}` }, type: log ? "log" : "linear" },
      legend: { orientation: "h", y: -0.22 } });
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

({ index: indexPage, experiment: experimentPage, study: studyPage })[document.body.dataset.page]();
