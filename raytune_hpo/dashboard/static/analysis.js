// An experiment page's "what matters" views: each objective's hyperparameter importance, its
// slices (the objective against each hyperparameter, one point per trial's last report), the
// contour of its two most important hyperparameters and, with several objectives, the Pareto
// front and the hypervolume history. experiment.js lays them out and redraws them with the rest.
"use strict";

const SLICE_COLUMNS = 4;
const FRONT_COLOR = "#e8710a";
const VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];

// The section's cards, in the order of CHARTS: a chart that is not wide shares a row with the next.
function analysisLayout() {
  const cards = [];
  let row = [];
  for (const chart of Object.values(CHARTS)) {
    if (chart.wide) { if (row.length) cards.push(`<div class="grid">${row.join("")}</div>`); row = []; cards.push(chart.html); continue; }
    row.push(chart.html);
    if (row.length === 2) { cards.push(`<div class="grid">${row.join("")}</div>`); row = []; }
  }
  if (row.length) cards.push(`<div class="grid">${row.join("")}</div>`);
  return `<h2>What matters <label class="toggle">objective <select id="matters-objective"></select></label></h2>${cards.join("")}`;
}

// An axis says which way is better ("(min)" on a time axis reads as minutes).
const BETTER = { min: "lower is better", max: "higher is better" };

// "validation_error (min)", or every objective with its mode.
function objectivesText(data) {
  return data.objectives.map((o) => `${o.name} (${o.mode})`).join(", ") || `${data.metric} (${data.mode})`;
}

function modeOf(data, name) {
  return (data.objectives.find((o) => o.name === name) || { mode: data.mode }).mode;
}

// Text broken into lines of at most width characters, for a Plotly annotation (which never wraps).
function wrapped(text, width = 60) {
  const lines = [];
  for (const word of text.split(" ")) {
    const last = lines.length ? lines[lines.length - 1] : null;
    if (last !== null && (last + " " + word).length <= width) lines[lines.length - 1] = last + " " + word;
    else lines.push(word);
  }
  return lines.map(esc).join("<br>");
}

// A chart that has nothing to draw, saying why.
function plotMissing(id, title, why) {
  plot(id, [], { title: { text: title, font: { size: 14 }, x: 0.01, xanchor: "left" }, xaxis: { visible: false },
    yaxis: { visible: false }, annotations: [{ text: wrapped(why), showarrow: false, xref: "paper", yref: "paper",
      x: 0.5, y: 0.5, font: { size: 13, color: "#66707a" } }] });
}

// An x or y axis of a slice or the contour: log with round ticks, by category, or plain.
function paramAxis(axis, extra = {}) {
  const title = { text: axis.log ? `${axis.name} (log)` : axis.name };
  if (axis.log) return Object.assign({ title, type: "log", tickmode: "array", tickvals: axis.tickvals, ticktext: axis.ticktext }, extra);
  if (axis.categories) return Object.assign({ title, type: "category", categoryorder: "array", categoryarray: axis.categories }, extra);
  return Object.assign({ title, type: "linear" }, extra);
}

function drawObjectiveChoice(data, view, redraw) {
  const select = el("matters-objective");
  const names = data.objectives.map((o) => o.name);
  if (!names.includes(view.objective)) view.objective = names[0] || data.metric;
  if ([...select.options].map((o) => o.value).join() !== names.join()) {
    select.innerHTML = names.map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join("");
    select.onchange = () => { view.objective = select.value; redraw(); };
  }
  select.value = view.objective;
  select.parentElement.hidden = names.length < 2;
}

function drawImportance(data, view) {
  const imp = data.importance, name = view.objective;
  const ranked = imp.ranked[name];
  const title = `importance for ${name}`;
  const rerun = `raytune-hpo summary ${data.name}`;
  if (!ranked || !ranked.length) {
    plotMissing("importance", title, (imp.missing || {})[name] || WAITING);
    el("importance-note").textContent = `Run ${rerun} to rate hyperparameters once the experiment has enough trials.`;
    return;
  }
  const rows = ranked.slice().reverse();
  plot("importance", [{ type: "bar", orientation: "h", x: rows.map(([, v]) => v), y: rows.map(([p]) => p),
    marker: { color: "#3c6eaa" }, hovertemplate: "%{y}: %{x:.3f}<extra></extra>" }],
  { title: { text: title, font: { size: 14 }, x: 0.01, xanchor: "left" }, xaxis: { title: { text: "importance (sums to 1)" }, rangemode: "tozero" },
    yaxis: { automargin: true, type: "category", ticksuffix: " " }, margin: { l: 80, r: 20, t: 40, b: 48 } });
  el("importance-note").textContent = imp.source;
}

// One panel per hyperparameter that varies; a trial the filters hide is drawn faint.
function drawSlices(data, view, ctx) {
  const s = data.slices, name = view.objective;
  const values = s.values[name] || [];
  const count = s.params.length, columns = Math.min(count, SLICE_COLUMNS), rows = Math.ceil(count / SLICE_COLUMNS);
  const height = Math.max(300, 260 * rows + 60);
  el("slices").style.height = `${height}px`;
  if (!count || !values.some((v) => v !== null)) {
    plotMissing("slices", `${name} against each hyperparameter`, count ? WAITING : "no hyperparameter varies");
    return;
  }
  const opacity = s.trials.map((t) => (ctx.shown.has(t) ? 0.9 : 0.15));
  const layout = { title: { text: `${name} against each hyperparameter (each trial's last report)`, font: { size: 14 }, x: 0.01, xanchor: "left" },
    grid: { rows, columns, pattern: "independent", xgap: 0.08, ygap: 0.3 }, height };
  const traces = s.params.map((axis, i) => {
    const k = i === 0 ? "" : String(i + 1);
    layout[`xaxis${k}`] = paramAxis(axis);
    layout[`yaxis${k}`] = Object.assign({ title: { text: i % SLICE_COLUMNS === 0 ? name : "" } }, i ? { matches: "y" } : {});
    return { type: "scatter", mode: "markers", x: axis.values, y: values, customdata: s.trials, xaxis: `x${k}`, yaxis: `y${k}`,
      marker: { size: 7, opacity, color: s.trials.map((t) => ctx.colors[t]), line: { width: 0 } },
      hovertemplate: `%{customdata}<br>${esc(axis.name)}: %{x}<br>${esc(name)}: %{y}<extra></extra>` };
  });
  plot("slices", traces, layout);
  el("slices-note").textContent = "One point per trial that did not error, at its last report; a click selects the trial.";
}

function drawContour(data, view) {
  const c = data.contours[view.objective] || { missing: WAITING };
  const title = `${view.objective} over two hyperparameters`;
  if (c.missing) { plotMissing("contour", title, c.missing); el("contour-note").textContent = ""; return; }
  const [x, y] = c.params;
  const scale = modeOf(data, view.objective) === "min" ? VIRIDIS.slice().reverse() : VIRIDIS;
  const colorscale = scale.map((color, i) => [i / (scale.length - 1), color]);
  plot("contour", [
    { type: "contour", x: c.surface.x, y: c.surface.y, z: c.surface.z, colorscale, opacity: 0.85, hoverinfo: "skip",
      contours: { coloring: "heatmap" }, line: { width: 0.5 }, colorbar: { title: { text: view.objective } } },
    { type: "scatter", mode: "markers", x: x.values, y: y.values, customdata: c.trials, text: c.values.map(fmt),
      marker: { size: 8, color: "#fff", line: { color: "#111", width: 1.5 } },
      hovertemplate: `%{customdata}<br>${esc(x.name)}: %{x}<br>${esc(y.name)}: %{y}<br>${esc(view.objective)}: %{text}<extra></extra>` },
  ], { title: { text: `${view.objective} over ${x.name} and ${y.name}`, font: { size: 14 }, x: 0.01, xanchor: "left" },
    xaxis: paramAxis(x), yaxis: paramAxis(y) });
  el("contour-note").textContent = `Of ${c.why}. Dots: the trials (last reports). Between them the colour is the inverse-distance-weighted ` +
    "mean of the trials' values: where good trials lie, not what an untried config would give.";
}

// The Pareto scatter of two objectives (chosen when there are more), its front highlighted and
// joined as the staircase it dominates, and the hypervolume against wall-clock.
function drawFronts(data, view, ctx, redraw) {
  const f = data.fronts;
  el("fronts-section").hidden = !f;
  if (!f) return;
  const pick = el("pareto-axes");
  if (f.objectives.length > 2 && !pick.dataset.ready) {
    const options = f.objectives.map((n, i) => `<option value="${i}">${esc(n)}</option>`).join("");
    pick.innerHTML = `x <select id="pareto-x">${options}</select> y <select id="pareto-y">${options}</select>`;
    pick.dataset.ready = "1";
    for (const axis of ["x", "y"]) el(`pareto-${axis}`).onchange = () => { view.pareto[axis] = Number(el(`pareto-${axis}`).value); redraw(); };
  }
  if (pick.dataset.ready) { el("pareto-x").value = view.pareto.x; el("pareto-y").value = view.pareto.y; }
  const [xn, yn] = [f.objectives[view.pareto.x], f.objectives[view.pareto.y]];
  const xs = f.values[xn], ys = f.values[yn];
  const group = (keep) => f.trials.map((t, i) => i).filter(keep);
  const scatter = (idx, name, marker) => ({ type: "scatter", mode: "markers", name, x: idx.map((i) => xs[i]), y: idx.map((i) => ys[i]),
    customdata: idx.map((i) => f.trials[i]), marker: Object.assign({ opacity: idx.map((i) => (ctx.shown.has(f.trials[i]) ? 1 : 0.2)) }, marker),
    hovertemplate: `%{customdata} (${name})<br>${esc(xn)}: %{x}<br>${esc(yn)}: %{y}<extra></extra>` });
  const sign = (n, v) => (f.modes[f.objectives.indexOf(n)] === "max" ? -v : v);
  const front = group((i) => f.on_front[i]).sort((a, b) => sign(xn, xs[a]) - sign(xn, xs[b]));
  const traces = [
    scatter(group((i) => f.feasible[i] && !f.on_front[i]), "dominated", { size: 7, color: "#8aa4c2" }),
    scatter(group((i) => !f.feasible[i]), "breaks a constraint", { size: 8, symbol: "x", color: "#d98c8c" }),
    Object.assign(scatter(front, "Pareto front", { size: 11, color: FRONT_COLOR, line: { color: "#111", width: 1 } }),
      f.objectives.length === 2 ? { mode: "lines+markers", line: { shape: "hv", color: FRONT_COLOR, width: 2 } } : {}),
  ];
  if (f.reference) {
    traces.push({ type: "scatter", mode: "markers", name: "reference point", x: [f.reference[view.pareto.x]], y: [f.reference[view.pareto.y]],
      marker: { symbol: "star", size: 12, color: "#66707a" }, hovertemplate: `reference point (${esc(f.reference_from)})<extra></extra>` });
  }
  plot("pareto", traces, { title: { text: `${xn} and ${yn}, each trial's last report`, font: { size: 14 }, x: 0.01, xanchor: "left" },
    xaxis: { title: { text: `${xn} (${BETTER[f.modes[view.pareto.x]]})` } }, yaxis: { title: { text: `${yn} (${BETTER[f.modes[view.pareto.y]]})` } },
    showlegend: true, legend: { orientation: "h", y: -0.22 } });
  const hv = f.hypervolume;
  if (!hv.value.length) plotMissing("hypervolume", "hypervolume", WAITING);
  else {
    plot("hypervolume", [{ type: "scatter", mode: "lines+markers", x: hv.elapsed_s, y: hv.value, line: { shape: "hv", color: FRONT_COLOR },
      hovertemplate: "%{x:.1f} s: %{y}<extra></extra>" }], { title: { text: "hypervolume of the front so far", font: { size: 14 }, x: 0.01, xanchor: "left" },
      xaxis: { title: { text: "wall-clock (s since start)" } }, yaxis: { title: { text: "hypervolume" }, rangemode: "tozero" } });
  }
  const ref = f.reference ? `(${f.reference.map(fmt).join(", ")}), ${f.reference_from}` : "none yet";
  el("fronts-note").textContent = `${front.length} of ${f.trials.length} trials on the front${f.constraints.length ?
    `; a trial breaking ${f.constraints.join(", ")}'s bound is never on it` : ""}. Hypervolume against the reference point ${ref}.`;
}

// The "what matters" charts, one entry each: the name is the key of its data in the page's JSON
// (CHARTS in raytune_hpo/dashboard/charts.py builds it), html its card, draw its drawing.
const CHARTS = {
  importance: { html: `<div class="card"><div id="importance" class="chart"></div><p id="importance-note" class="muted note"></p></div>`,
    draw: drawImportance },
  contours: { html: `<div class="card"><div id="contour" class="chart"></div><p id="contour-note" class="muted note"></p></div>`,
    draw: drawContour },
  slices: { wide: true, html: `<div class="card slices-card"><div id="slices" class="chart"></div><p id="slices-note" class="muted note"></p></div>`,
    draw: drawSlices },
  fronts: { wide: true, html: `<div id="fronts-section" hidden><h2>Pareto front <span id="pareto-axes" class="toggle"></span></h2>
    <div class="grid"><div class="card"><div id="pareto" class="chart"></div></div>
    <div class="card"><div id="hypervolume" class="chart"></div></div></div><p id="fronts-note" class="muted note"></p></div>`,
    draw: drawFronts },
};

function drawAnalysis(data, view, ctx, redraw) {
  drawObjectiveChoice(data, view, redraw);
  for (const chart of Object.values(CHARTS)) chart.draw(data, view, ctx, redraw);
}
