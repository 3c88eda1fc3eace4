// Parallel coordinates as plain SVG: an axis per dimension, a line per trial, a colour bar, and
// brushing (drag along an axis to keep a range of it; a click on the axis clears it). Plotly's
// parallel coordinates are WebGL, which a browser without a GPU draws on the CPU: over a second
// for 50 lines as for 500. These draw 500 lines in milliseconds and redraw with every poll.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const AXES_MARGIN = { left: 70, right: 110, top: 52, bottom: 30 };
const BRUSH_HALF_WIDTH = 13;  // px either side of an axis that a drag starts from
const BRUSH_OVERHANG = 8;  // px past an axis's ends that a drag starts from (its ends' values)
const CLICK_PX = 3;  // a drag shorter than this is a click: it clears the axis's range
const FADED_LINE = "#c5ccd4";

function svgElement(name, attributes = {}) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

// The band that marks a range on an axis, from pixel y down height pixels.
function rangeBand(cls, y, height) {
  return svgElement("rect", { class: cls, x: -6, width: 12, y, height, fill: "rgba(31, 95, 191, 0.2)", stroke: "#1f5fbf" });
}

// About `count` round values (1, 2, 2.5 or 5 times a power of ten) from lo to hi; lo alone
// when the range is empty.
function linearTicks(lo, hi, count = 6) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = power * ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) || 10);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

// A round tick value as short as it reads: 0.0005, not 5.000e-4.
function tickText(v) {
  return String(Number(v.toPrecision(6)));
}

// An axis's value range and its ticks as [value, text]: the dimension's own ticks (log axes,
// categories) or round ones. A single value gets a range around it.
function axisScale(d) {
  const known = d.values.filter((v) => v !== null && v !== undefined);
  let [lo, hi] = d.range || [Math.min(...known), Math.max(...known)];
  if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
  const ticks = d.tickvals ? d.tickvals.map((v, i) => [v, d.ticktext[i]]) : linearTicks(lo, hi).map((v) => [v, tickText(v)]);
  return { lo, hi, ticks: ticks.filter(([v]) => v >= lo - (hi - lo) * 1e-9 && v <= hi + (hi - lo) * 1e-9) };
}

// The colour of value t in [0, 1] along stops (CSS hex colours, evenly spaced).
function colorAlong(stops, t) {
  const at = Math.min(Math.max(t, 0), 1) * (stops.length - 1), i = Math.min(Math.floor(at), stops.length - 2);
  const rgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
  const [a, b] = [rgb(stops[i]), rgb(stops[i + 1])];
  return `rgb(${a.map((x, k) => Math.round(x + (b[k] - x) * (at - i))).join(",")})`;
}

// spec: dimensions ([{label, values, range?, tickvals?, ticktext?}], the last the colour's),
// trials (a line's id), colors (a line's CSS colour), shown (whether a line is in the user's
// view: others are drawn faint), picked (the line drawn on top, thick), scale ({lo, hi, stops} of
// the colour bar). brush: {label: [lo, hi]}. on.brush(brush) after a drag or a click
// on an axis, on.pick(trialId) after a click on a line. The holder redraws itself when resized.
function drawParallelAxes(holder, spec, brush, on) {
  holder._parallel = { spec, brush, on };
  if (!holder._resizing) {
    holder._resizing = new ResizeObserver(() => {
      const last = holder._parallel;
      if (holder._drawnWidth !== holder.clientWidth) drawParallelAxes(holder, last.spec, last.brush, last.on);
    });
    holder._resizing.observe(holder);
  }
  holder._drawnWidth = holder.clientWidth;
  const width = holder.clientWidth || 800, height = holder.clientHeight || 340;
  const m = AXES_MARGIN, bottom = height - m.bottom;
  const n = spec.dimensions.length;
  const axisX = (i) => (n === 1 ? (m.left + width - m.right) / 2 : m.left + (i * (width - m.left - m.right)) / (n - 1));
  const dims = spec.dimensions.map((d, i) => Object.assign({ d, x: axisX(i) }, axisScale(d)));
  const y = (axis, v) => bottom - ((v - axis.lo) / (axis.hi - axis.lo)) * (bottom - m.top);
  const value = (axis, py) => axis.lo + ((bottom - py) / (bottom - m.top)) * (axis.hi - axis.lo);
  // main-svg as Plotly names each chart's surface: one selector finds any chart drawn.
  const svg = svgElement("svg", { class: "parallel-axes main-svg", width, height, viewBox: `0 0 ${width} ${height}` });

  const path = (j) => dims.map((a, i) => `${i ? "L" : "M"}${a.x.toFixed(1)},${y(a, a.d.values[j]).toFixed(1)}`).join("");
  const lines = svgElement("g", { class: "lines", fill: "none" });
  const order = spec.trials.map((_, j) => j).sort((a, b) => spec.shown[a] - spec.shown[b] || (spec.trials[a] === spec.picked) - (spec.trials[b] === spec.picked));
  for (const j of order) {
    const picked = spec.trials[j] === spec.picked;
    const line = svgElement("path", { d: path(j), "data-trial": spec.trials[j], class: spec.shown[j] ? "shown" : "faded",
      stroke: spec.shown[j] ? spec.colors[j] : FADED_LINE, "stroke-width": picked ? 4 : 1.3, "stroke-opacity": spec.shown[j] ? 0.85 : 0.5 });
    line.appendChild(svgElement("title")).textContent = spec.trials[j];
    lines.appendChild(line);
  }
  svg.appendChild(lines);
  lines.addEventListener("click", (event) => { const t = event.target.dataset.trial; if (t) on.pick(t); });

  for (const axis of dims) {
    const group = svgElement("g", { class: "axis", "data-label": axis.d.label, transform: `translate(${axis.x},0)` });
    group.appendChild(svgElement("line", { class: "axis-line", y1: m.top, y2: bottom, stroke: "#444", "stroke-width": 1 }));
    for (const [v, text] of axis.ticks) {
      const ty = y(axis, v);
      group.appendChild(svgElement("line", { x1: -4, x2: 0, y1: ty, y2: ty, stroke: "#444" }));
      const label = group.appendChild(svgElement("text", { class: "tick", x: -7, y: ty + 4, "text-anchor": "end", "font-size": 11, fill: "#333" }));
      label.textContent = text;
    }
    const title = group.appendChild(svgElement("text", { class: "label", y: m.top - 14, "text-anchor": "middle", "font-size": 12, "font-weight": 600, fill: "#1d232a" }));
    title.textContent = axis.d.label;
    const range = brush[axis.d.label];
    if (range) {
      const [top, low] = [y(axis, Math.min(range[1], axis.hi)), y(axis, Math.max(range[0], axis.lo))];
      group.appendChild(rangeBand("range", top, Math.max(low - top, 1)));
    }
    const hit = group.appendChild(svgElement("rect", { class: "brush-area", x: -BRUSH_HALF_WIDTH, width: 2 * BRUSH_HALF_WIDTH,
      y: m.top - BRUSH_OVERHANG, height: bottom - m.top + 2 * BRUSH_OVERHANG, fill: "transparent", cursor: "ns-resize",
      "data-lo": axis.lo, "data-hi": axis.hi }));
    brushable(hit, group, [m.top, bottom], (range) => {
      const next = Object.assign({}, brush);
      if (range) next[axis.d.label] = range.map((py) => value(axis, py)).sort((a, b) => a - b);
      else delete next[axis.d.label];
      on.brush(next);
    });
    svg.appendChild(group);
  }
  if (spec.scale) svg.appendChild(colorBar(spec.scale, width - m.right + 50, m.top, bottom));
  holder.replaceChildren(svg);
}

// A drag along an axis's hit area: a range shows as it is dragged; done(the two y pixels, within
// [top, bottom]), or done(null) for a click.
function brushable(hit, group, [top, bottom], done) {
  hit.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    hit.setPointerCapture(event.pointerId);
    const origin = hit.ownerSVGElement.getBoundingClientRect().top;
    const clamp = (py) => Math.min(Math.max(py, top), bottom);
    const start = clamp(event.clientY - origin);
    const band = group.insertBefore(rangeBand("dragging", start, 0), hit);
    const move = (e) => {
      const now = clamp(e.clientY - origin);
      band.setAttribute("y", Math.min(start, now));
      band.setAttribute("height", Math.abs(now - start));
    };
    const up = (e) => {
      hit.removeEventListener("pointermove", move);
      hit.removeEventListener("pointerup", up);
      const end = clamp(e.clientY - origin);
      done(Math.abs(end - start) < CLICK_PX ? null : [start, end]);
    };
    hit.addEventListener("pointermove", move);
    hit.addEventListener("pointerup", up);
  });
}

// The colour bar: the scale from lo (bottom) to hi (top), beside the axis of the same values.
function colorBar(scale, x, top, bottom) {
  const group = svgElement("g", { class: "color-bar" });
  const id = `scale-${Math.random().toString(36).slice(2)}`;
  const gradient = svgElement("linearGradient", { id, x1: 0, y1: 1, x2: 0, y2: 0 });
  scale.stops.forEach((c, i) => gradient.appendChild(svgElement("stop", { offset: i / (scale.stops.length - 1), "stop-color": c })));
  group.appendChild(svgElement("defs")).appendChild(gradient);
  group.appendChild(svgElement("rect", { x, y: top, width: 14, height: bottom - top, fill: `url(#${id})` }));
  for (const v of linearTicks(scale.lo, scale.hi, 5)) {
    const ty = bottom - ((v - scale.lo) / (scale.hi - scale.lo || 1)) * (bottom - top);
    group.appendChild(svgElement("text", { x: x + 18, y: ty + 4, "font-size": 11, fill: "#333" })).textContent = tickText(v);
  }
  return group;
}
