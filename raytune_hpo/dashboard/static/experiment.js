// An experiment's page: its trials' curves, parallel coordinates, perturbations, best trial,
// trials table and failed trials. What the user does (zoom, brushed axes, a selected trial, a
// status filter, sorted columns, open tracebacks) stays across the redraws of a live page.
"use strict";

const MANY_TRACES = 150;  // more trials: one trace of lines for all, the best and the selected on top
const PARCOORDS_LINES = 500;  // more trials: this many lines drawn, evenly spread over the metric's ranks
const EXPLOIT_COLOR = "#111";

function experimentLayout() {
  el("main").innerHTML = `
    <h1 id="title"></h1><div class="facts" id="facts"></div><div class="facts" id="counts"></div>
    <div id="selection" class="selection" hidden></div>
    <h2>Learning curves <label class="toggle"><input type="checkbox" id="log-y"> log scale</label></h2>
    <div class="grid"><div class="card"><div id="by-epoch" class="chart"></div></div>
    <div class="card"><div id="by-time" class="chart"></div></div></div>
    <h2>Hyperparameters against the metric</h2>
    <div class="toolbar muted" id="brush-note"></div>
    <div class="card"><div id="parcoords" class="chart"></div></div>
    ${analysisLayout()}
    <div id="pbt-section" hidden><h2>Perturbations (PBT)</h2>
    <div class="card"><div id="pbt" class="chart"></div></div><div id="pbt-table" class="scroll"></div></div>
    <h2>Best trial</h2><div id="best"></div>
    <h2>Trials</h2><div class="toolbar">status <select id="status-filter"><option value="">all</option></select>
    <span id="shown" class="muted"></span></div><div id="trials" class="scroll"></div>
    <div id="errors-section" hidden><h2>Failed trials</h2><div id="errors"></div></div>`;
}

function trialUrl(data, trialId) {
  return `/experiments/${data.name}/trials/${encodeURIComponent(trialId)}`;
}

// A link to a trial's page; the trials table's links have the class trial-id.
function trialLink(data, trialId, cls = "") {
  return `<a class="${cls}" href="${esc(trialUrl(data, trialId))}">${esc(trialId)}</a>`;
}

// Whether a line's value lies in a brushed range: [lo, hi] or a list of them.
function inRange(value, range) {
  const ranges = Array.isArray(range[0]) ? range : [range];
  return ranges.some(([lo, hi]) => value >= lo && value <= hi);
}

// The trials the user looks at: the status filter and every brushed axis let them through.
function shownTrials(data, view) {
  let ids = data.trial_rows.filter((t) => !view.status || t.status === view.status).map((t) => t.trial_id);
  const brushed = Object.entries(view.brush);
  if (brushed.length) {
    const p = data.parcoords;
    const passing = new Set(p.trials.filter((id, i) => brushed.every(([label, range]) => {
      const dim = p.dimensions.find((d) => d.label === label);
      return !dim || inRange(dim.values[i], range);
    })));
    ids = ids.filter((id) => passing.has(id));
  }
  return new Set(ids);
}

// The x values of a curve: epochs, or seconds since the start with a break (null) before each
// restart, so that the line does not cross the time the trial was paused.
function curveXY(c, axis) {
  if (axis === "epoch") return { x: c.epoch, y: c.value, trial: c.epoch.map(() => c.trial) };
  const breaks = new Set(c.restarts), x = [], y = [], trial = [];
  c.elapsed_s.forEach((t, i) => {
    if (breaks.has(i)) { x.push(null); y.push(null); trial.push(c.trial); }
    x.push(t); y.push(c.value[i]); trial.push(c.trial);
  });
  return { x, y, trial };
}

function exploitText(e) {
  const changes = Object.entries(e.change).map(([k, [a, b]]) => `${k}: ${fmt(a)} → ${fmt(b)}`).join("<br>");
  const donor = e.donor_id ? `copied ${e.donor_id} (its epoch ${fmt(e.donor_iteration)})` : "new hyperparameters";
  return `${donor}<br>${changes}`;
}

// One trace per trial (its own colour, the best thicker, a selected one on top), or one SVG
// trace of lines for many (WebGL, on a machine without a GPU, took seconds more to draw them);
// then PBT's exploits as diamonds.
function curveTraces(curves, axis, ctx) {
  const traces = [];
  if (curves.length <= MANY_TRACES) {
    for (const c of curves) {
      const { x, y, trial } = curveXY(c, axis);
      const best = c.trial === ctx.best, picked = c.trial === ctx.selected;
      const dim = ctx.selected && !picked;
      traces.push({ x, y, customdata: trial, type: "scatter", mode: "lines+markers", name: best ? `best ${c.trial}` : c.trial,
        visible: ctx.shown.has(c.trial), opacity: dim ? 0.25 : 1, showlegend: best,
        line: { color: ctx.colors[c.trial], width: picked ? 4 : best ? 3 : 1.5 }, marker: { size: picked || best ? 6 : 4 },
        hovertemplate: `${best ? "best " : ""}%{customdata}<br>%{x}: %{y}<extra></extra>` });
    }
  } else {
    // Lines only: markers on every point cost seconds to draw without a GPU.
    const all = { x: [], y: [], customdata: [] };
    for (const c of curves.filter((c) => ctx.shown.has(c.trial))) {
      const { x, y, trial } = curveXY(c, axis);
      all.x.push(...x, null); all.y.push(...y, null); all.customdata.push(...trial, null);
    }
    traces.push({ x: all.x, y: all.y, customdata: all.customdata, type: "scatter", mode: "lines", name: "every trial",
      line: { color: "rgba(60, 110, 170, 0.35)", width: 1 }, connectgaps: false,
      hovertemplate: "%{customdata}<br>%{x}: %{y}<extra></extra>" });
    // The best and the selected trial on top, in their own colours.
    for (const c of curves.filter((c) => ctx.shown.has(c.trial) && (c.trial === ctx.best || c.trial === ctx.selected))) {
      const { x, y, trial } = curveXY(c, axis);
      traces.push({ x, y, customdata: trial, type: "scatter", mode: "lines+markers", name: c.trial === ctx.best ? `best ${c.trial}` : c.trial,
        showlegend: c.trial === ctx.best, line: { color: ctx.colors[c.trial], width: 3 }, marker: { size: 5 },
        hovertemplate: "%{customdata}<br>%{x}: %{y}<extra></extra>" });
    }
  }
  const marks = { x: [], y: [], customdata: [], text: [] };
  for (const c of curves.filter((c) => ctx.shown.has(c.trial))) {
    for (const e of c.exploits) {
      marks.x.push(axis === "epoch" ? c.epoch[e.index] : c.elapsed_s[e.index]);
      marks.y.push(c.value[e.index]); marks.customdata.push(c.trial); marks.text.push(exploitText(e));
    }
  }
  if (marks.x.length) {
    traces.push({ ...marks, type: "scatter", mode: "markers", name: "PBT exploit", showlegend: true,
      marker: { symbol: "diamond", size: 10, color: "#fff", line: { color: EXPLOIT_COLOR, width: 2 } },
      hovertemplate: "%{customdata} exploited<br>%{text}<extra></extra>" });
  }
  return traces;
}

function drawCurves(data, view, ctx) {
  const values = data.curves.filter((c) => ctx.shown.has(c.trial)).flatMap((c) => c.value);
  for (const [id, axis, title] of [["by-epoch", "epoch", "epoch"], ["by-time", "elapsed_s", "wall-clock (s since start)"]]) {
    const heading = `${data.metric} by ${axis === "epoch" ? "epoch" : "wall-clock"}`;
    if (!values.some((v) => v !== null)) { plotWaiting(id, heading); continue; }
    plot(id, curveTraces(data.curves, axis, ctx), { title: { text: heading, font: { size: 14 }, x: 0.01, xanchor: "left" },
      xaxis: { title: { text: title } }, yaxis: valueAxis(values, view.logY, data.metric), showlegend: true,
      legend: { orientation: "h", y: -0.22 } });
  }
}

// The lines parallel coordinates draw of many: every k-th trial by the metric's rank (the
// best and the worst among them), so that each range of the metric keeps its share.
function drawnLines(p) {
  const all = p.trials.map((_, i) => i);
  if (all.length <= PARCOORDS_LINES) return all;
  const metric = p.dimensions[p.dimensions.length - 1].values;
  const ranked = all.sort((a, b) => (metric[a] === null) - (metric[b] === null) || metric[a] - metric[b]);
  const step = (ranked.length - 1) / (PARCOORDS_LINES - 1);
  return [...new Set(Array.from({ length: PARCOORDS_LINES }, (_, k) => ranked[Math.round(k * step)]))].sort((a, b) => a - b);
}

// Parallel coordinates coloured by the metric, errored trials in red, the trials outside the
// user's view (status filter, brushed ranges) faint. Of many trials some are drawn (drawnLines);
// a brush filters them all.
function drawParcoords(data, view, ctx, redraw, select) {
  const whole = data.parcoords, lines = drawnLines(whole);
  const left = whole.left_out ? `; ${whole.left_out} trial${whole.left_out === 1 ? "" : "s"} without a value not drawn` : "";
  const some = lines.length < whole.trials.length ? `; ${lines.length} of ${whole.trials.length} trials drawn, spread over the metric's range` : "";
  const errored = lines.some((i) => whole.errored[i]);
  el("brush-note").textContent = `Drag along an axis to keep only the trials in that range, in the table and the curves ` +
    `(a click on the axis clears it); a click on a line selects its trial${errored ? "; errored trials in red" : ""}${left}${some}.`;
  if (!whole.trials.length) { plotWaiting("parcoords", "hyperparameters"); return; }
  const metric = whole.dimensions[whole.dimensions.length - 1].values;
  const known = lines.map((i) => metric[i]).filter((v) => v !== null);
  const lo = Math.min(...known), hi = Math.max(...known);
  const stops = data.mode === "min" ? VIRIDIS.slice().reverse() : VIRIDIS;
  const trials = lines.map((i) => whole.trials[i]);
  Plotly.purge(el("parcoords"));  // a waiting chart drawn before the first report
  drawParallelAxes(el("parcoords"), {
    dimensions: whole.dimensions.map((d) => Object.assign({}, d, { values: lines.map((i) => d.values[i]) })),
    trials, shown: trials.map((t) => ctx.shown.has(t)), picked: ctx.selected,
    colors: lines.map((i) => (whole.errored[i] ? ERRORED_COLOR : colorAlong(stops, (metric[i] - lo) / (hi - lo || 1)))),
    scale: { lo, hi, stops },
  }, view.brush, { brush: (brush) => { view.brush = brush; redraw(); }, pick: select });
}

function drawPerturbations(data, ctx) {
  const records = data.perturbations;
  el("pbt-section").hidden = records.length === 0;
  if (!records.length) return;
  const trials = data.trial_rows.map((t) => t.trial_id);
  const change = (r) => Object.keys(r.new || {}).map((k) => `${k}: ${fmt((r.old || {})[k])} → ${fmt(r.new[k])}`).join("<br>");
  const traces = trials.map((id) => {
    const own = records.filter((r) => r.trial_id === id);
    return { x: own.map((r) => r.training_iteration), y: own.map(() => id), customdata: own.map(() => id), type: "scatter",
      mode: "markers", marker: { size: 11, symbol: "diamond", color: ctx.colors[id] }, name: id,
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
    { key: "trial_id", label: "trial", html: (r) => trialLink(data, r.trial_id) },
    { key: "donor_id", label: "donor", html: (r) => trialLink(data, r.donor_id) },
    { key: "training_iteration", label: "epoch", num: true }, { key: "donor_iteration", label: "donor epoch", num: true },
    ...params.map((p) => ({ key: p, label: p, html: (r) => esc(`${fmt((r.old || {})[p])} → ${fmt((r.new || {})[p])}`) })),
  ], records);
}

function drawBest(data) {
  const s = data.best_summary;
  if (!data.best_trial) { el("best").innerHTML = `<p class="muted">${WAITING}</p>`; return; }
  const row = data.trial_rows.find((t) => t.trial_id === data.best_trial) || {};
  const config = (s && s.config) || row.config;
  const value = s ? s[data.metric] : row.best;
  const scores = s && s.test && typeof s.test === "object" ? Object.entries(s.test).map(([k, v]) => `${k} ${fmt(v)}`).join(", ") : s && fmt(s.test);
  const test = s && s.test ? `<div><b>test score</b> ${esc(scores)}</div>` : `<div class="muted">no test score${s ? "" : " yet (written when the experiment ends)"}</div>`;
  el("best").innerHTML = `<div class="card"><div class="facts"><div><b>trial</b> ${trialLink(data, data.best_trial)}</div>
    <div><b>${esc(data.metric)}</b> ${esc(fmt(value))}</div>${test}</div><pre>${esc(JSON.stringify(config, null, 2))}</pre></div>`;
}

function drawTrials(data, view, ctx, select) {
  const filter = el("status-filter");
  const known = [...filter.options].map((o) => o.value);
  data.counts.map(([s]) => s).filter((s) => !known.includes(s)).forEach((s) => filter.add(new Option(s, s)));
  filter.value = view.status;
  const rows = data.trial_rows.filter((t) => ctx.shown.has(t.trial_id))
    .map((t) => Object.assign({}, t, Object.fromEntries(data.params.map((p) => [`config/${p}`, t.config[p]])),
      Object.fromEntries(Object.entries(t.others || {}).map(([k, v]) => [`last/${k}`, v]))));
  el("shown").textContent = `${rows.length} of ${data.trial_rows.length} trials`;
  const swatch = (id) => `<span class="swatch" style="background:${ctx.colors[id]}"></span>`;
  drawTable(el("trials"), [
    { key: "trial_id", label: "trial", html: (r) => `${swatch(r.trial_id)}${trialLink(data, r.trial_id, "trial-id")}` },
    { key: "status", label: "status", html: (r) => badge(r.status) },
    { key: "end", label: "end", html: (r) => esc(r.end || "-") },
    { key: "error", label: "error", cls: "error-line", html: (r) => (r.error ? `<span title="${esc(r.error)}">${esc(r.error)}</span>` : "") },
    ...data.params.map((p) => ({ key: `config/${p}`, label: p, num: true })),
    { key: "epochs", label: "epochs", num: true },
    { key: "last", label: `last ${data.metric}`, num: true },
    { key: "best", label: `best ${data.metric}`, num: true },
    ...data.objectives.slice(1).map((o) => ({ key: `last/${o.name}`, label: `last ${o.name}`, num: true })),
    { key: "worker_time_s", label: "worker time (s)", num: true },
  ], rows, (r) => [r.trial_id === data.best_trial ? "best" : "", r.trial_id === view.selected ? "selected" : ""].join(" "),
  (r) => r.trial_id);
  el("trials").onclick = (event) => {
    const tr = event.target.closest("tbody tr");
    if (tr && !event.target.closest("a")) select(tr.dataset.key);
  };
  const failed = data.trial_rows.filter((t) => t.traceback || t.error);
  el("errors-section").hidden = failed.length === 0;
  el("errors").innerHTML = failed.map((t) => tracebackBox(t.trial_id,
    `${trialLink(data, t.trial_id)} ${esc(t.end || "")}${t.error ? `: <b>${esc(t.error)}</b>` : ""}`,
    t.traceback || t.error, view.openErrors)).join("");
  followTracebacks(el("errors"), view.openErrors);
}

function drawHeader(data, view, redraw) {
  document.title = `${data.name} · raytune-hpo`;
  el("crumb").textContent = `/ ${data.name}`;
  el("title").textContent = data.name;
  el("facts").innerHTML = `<div>${badge(data.status)}</div><div><b>method</b> ${esc(data.method)}</div>
    <div><b>${data.objectives.length > 1 ? "objectives" : "metric"}</b> ${esc(objectivesText(data))}</div><div><b>trials</b> ${data.trial_rows.length}</div>
    <div><b>best</b> ${esc(fmt(data.best))}</div><div><b>last update</b> ${esc(when(data.updated))}</div>`;
  // Trials by how they ended; a click shows only those (again: all).
  el("counts").innerHTML = data.counts.map(([status, n]) =>
    `<button class="count${view.status === status ? " on" : ""}" data-status="${esc(status)}">${badge(status, `${n} ${status}`)}</button>`).join("");
  el("counts").querySelectorAll("button").forEach((b) => b.addEventListener("click", () => {
    view.status = view.status === b.dataset.status ? "" : b.dataset.status;
    redraw();
  }));
}

function drawSelection(data, view, select) {
  const box = el("selection");
  box.hidden = !view.selected;
  if (!view.selected) return;
  box.innerHTML = `selected trial <b>${esc(view.selected)}</b> · <a href="${esc(trialUrl(data, view.selected))}">open its page</a>
    · <button id="clear-selection">clear</button>`;
  el("clear-selection").addEventListener("click", () => select(null));
}

// Clicks on a curve, a point or a perturbation select that trial. Each chart is listened to once
// it is drawn.
function listen(view, redraw, select) {
  const fresh = (id) => el(id).on && !el(id).dataset.listening && (el(id).dataset.listening = "1");
  for (const id of ["by-epoch", "by-time", "pbt", "slices", "contour", "pareto"].filter(fresh)) {
    el(id).on("plotly_click", (event) => {
      const trial = event.points.length ? event.points[0].customdata : null;
      if (trial) select(trial);
    });
  }
}

function experimentPage() {
  experimentLayout();
  const view = { status: "", brush: {}, selected: null, logY: false, openErrors: new Set(), objective: null, pareto: { x: 0, y: 1 } };
  let latest = null;
  const redraw = () => {
    const data = latest;
    const colors = Object.fromEntries(data.trial_rows.map((t, i) => [t.trial_id, trialColor(i)]));
    const ctx = { colors, shown: shownTrials(data, view), best: data.best_trial, selected: view.selected };
    drawHeader(data, view, redraw);
    drawSelection(data, view, select);
    drawCurves(data, view, ctx);
    drawParcoords(data, view, ctx, redraw, select);
    drawAnalysis(data, view, ctx, redraw);
    drawPerturbations(data, ctx);
    drawBest(data);
    drawTrials(data, view, ctx, select);
    listen(view, redraw, select);
  };
  function select(trialId) {
    view.selected = view.selected === trialId ? null : trialId;
    redraw();
  }
  el("status-filter").addEventListener("change", () => { view.status = el("status-filter").value; redraw(); });
  el("log-y").addEventListener("change", () => { view.logY = el("log-y").checked; redraw(); });
  follow((data, first) => {
    latest = data;
    if (first) document.body.dataset.firstTrials = String(data.trial_rows.length);
    redraw();
    return data.status === "running";
  });
}
