// A trial's page: every metric it reported, its end and error, its config, its PBT lineage, its
// command and the end of its output, its checkpoints. Followed while the trial has not ended.
"use strict";

const NOT_ENDED = ["running", "pending", "paused"];

function trialLayout() {
  el("main").innerHTML = `
    <div class="neighbours" id="neighbours"></div>
    <h1 id="title"></h1><div class="facts" id="facts"></div>
    <div id="error-section" hidden><h2>Error</h2><div id="error"></div></div>
    <h2>Metrics <label class="toggle">against <select id="x-axis"><option value="epoch">epoch</option>
    <option value="elapsed_s">wall-clock</option></select></label></h2>
    <div class="grid" id="metrics"></div>
    <div class="grid"><div><h2>Config</h2><div id="config"></div></div>
    <div><h2>Checkpoints</h2><div id="checkpoints"></div></div></div>
    <div id="lineage-section" hidden><h2>PBT lineage</h2><div id="lineage"></div></div>
    <div id="command-section" hidden><h2>Command</h2><div id="command"></div></div>
    <div id="output-section" hidden><h2>Output</h2><div class="grid">
    <div><h3>stdout (its end)</h3><pre id="stdout" class="log"></pre></div>
    <div><h3>stderr (its end)</h3><pre id="stderr" class="log"></pre></div></div></div>`;
}

function experimentUrl(data) {
  return `/experiments/${data.experiment}`;
}

function otherTrial(data, trialId) {
  return `<a href="${esc(`${experimentUrl(data)}/trials/${encodeURIComponent(trialId)}`)}">${esc(trialId)}</a>`;
}

// One chart per metric; the wall-clock breaks where the trial was paused, exploits are diamonds.
function drawMetrics(data, axis) {
  const holder = el("metrics");
  const ids = data.curves.map((c, i) => `metric-${i}`);
  if (holder.children.length !== Math.max(ids.length, 1)) {
    holder.innerHTML = (ids.length ? ids : ["metric-0"]).map((id) => `<div class="card"><div id="${id}" class="chart small"></div></div>`).join("");
  }
  if (!data.curves.length) { plotWaiting("metric-0", data.metric); return; }
  const ctx = { colors: { [data.trial_id]: trialColor(0) }, shown: new Set([data.trial_id]), best: null, selected: null };
  data.curves.forEach((c, i) => {
    plot(ids[i], curveTraces([c], axis, ctx), { title: { text: c.metric, font: { size: 14 }, x: 0.01, xanchor: "left" },
      xaxis: { title: { text: axis === "epoch" ? "epoch" : "wall-clock (s since the experiment's start)" } },
      yaxis: { title: { text: c.metric } }, showlegend: c.exploits.length > 0, legend: { orientation: "h", y: -0.25 } });
  });
}

function drawLineage(data) {
  const changes = (r) => Object.keys(r.new || {}).map((k) => `${k}: ${fmt((r.old || {})[k])} → ${fmt(r.new[k])}`).join(", ");
  el("lineage-section").hidden = !data.received.length && !data.donated.length;
  const received = data.received.map((r) => `<li>epoch ${esc(fmt(r.training_iteration))}: copied ${otherTrial(data, r.donor_id)}
    (its epoch ${esc(fmt(r.donor_iteration))}), then ${esc(changes(r))}</li>`).join("");
  const donated = data.donated.map((r) => `<li>epoch ${esc(fmt(r.donor_iteration))}: copied by ${otherTrial(data, r.trial_id)}
    (at its epoch ${esc(fmt(r.training_iteration))}), which went on with ${esc(changes(r))}</li>`).join("");
  el("lineage").innerHTML = `<div class="card"><p><b>donors</b> (this trial took their state)</p><ul id="received">${received || "<li class=\"muted\">none</li>"}</ul>
    <p><b>took from this trial</b></p><ul id="donated">${donated || "<li class=\"muted\">none</li>"}</ul></div>`;
}

function drawOutput(data) {
  el("command-section").hidden = !data.command;
  if (data.command) {
    el("command").innerHTML = `<pre id="command-line">${esc(data.command.line)}</pre>
      <details><summary>command.sh: runs it again by hand</summary><pre>${esc(data.command.script)}</pre></details>`;
  }
  el("output-section").hidden = data.stdout === null && data.stderr === null;
  for (const stream of ["stdout", "stderr"]) {
    const pre = el(stream);
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.textContent = data[stream] === null ? "(none)" : data[stream].join("\n") || "(empty)";
    if (atEnd) pre.scrollTop = pre.scrollHeight;  // follows the end unless the user scrolled up
  }
}

function trialPage() {
  trialLayout();
  const view = { openErrors: new Set(), axis: "epoch" };
  let latest = null;
  const redraw = () => drawMetrics(latest, view.axis);
  el("x-axis").addEventListener("change", () => { view.axis = el("x-axis").value; redraw(); });
  follow((data) => {
    latest = data;
    document.title = `${data.trial_id} · ${data.experiment} · raytune-hpo`;
    el("crumb").innerHTML = `/ <a href="${esc(experimentUrl(data))}">${esc(data.experiment)}</a> / ${esc(data.trial_id)}`;
    el("neighbours").innerHTML = [data.previous && `← ${otherTrial(data, data.previous)}`, data.next && `${otherTrial(data, data.next)} →`]
      .filter(Boolean).join(" · ");
    el("title").textContent = `trial ${data.trial_id}`;
    el("facts").innerHTML = `<div>${badge(data.status)}</div><div>${esc(data.end || "has not ended")}</div>
      <div><b>epochs</b> ${esc(fmt(data.epochs))}</div><div><b>best ${esc(data.metric)}</b> ${esc(fmt(data.best))}</div>
      <div><b>last</b> ${esc(fmt(data.last))}</div><div><b>worker time (s)</b> ${esc(fmt(data.worker_time_s))}</div>
      ${data.folder ? `<div><b>folder</b> <code>${esc(data.folder)}</code></div>` : ""}`;
    el("error-section").hidden = !data.error && !data.traceback;
    el("error").innerHTML = tracebackBox(data.trial_id, `<b>${esc(data.error || "the error file")}</b> (traceback)`,
      data.traceback || data.error || "", view.openErrors);
    followTracebacks(el("error"), view.openErrors);
    redraw();
    el("config").innerHTML = `<table id="config-table"><tbody>${Object.entries(data.config).map(([k, v]) =>
      `<tr><th>${esc(k)}</th><td class="num">${esc(fmt(v))}</td></tr>`).join("")}</tbody></table>`;
    drawTable(el("checkpoints"), [{ key: "name", label: "checkpoint" }, { key: "epoch", label: "epoch", num: true },
      { key: "value", label: data.metric, num: true }], data.checkpoints);
    if (!data.checkpoints.length) el("checkpoints").innerHTML = `<p class="muted">none kept</p>`;
    drawLineage(data);
    drawOutput(data);
    return NOT_ENDED.includes(data.status);
  });
}
