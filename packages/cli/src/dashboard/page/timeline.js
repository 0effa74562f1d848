// Traces drawn as timelines: one row per span, bars offset by start time and indented by nesting.
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 900;
const LABEL_WIDTH = 300;
const ROW_HEIGHT = 20;
const BAR_HEIGHT = 12;
const INDENT = 12;

/** Bar colours, one per app (in the order of the apps' ids); red is kept for errors. */
export const APP_COLOURS = [
  "#2563eb",
  "#16a34a",
  "#d97706",
  "#9333ea",
  "#0891b2",
  "#db2777",
  "#65a30d",
  "#4f46e5",
];

export function appColour(appIds, appId) {
  const index = appIds.indexOf(appId);
  return APP_COLOURS[(index < 0 ? appIds.length : index) % APP_COLOURS.length];
}

function svgElement(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** One trace (a snapshot's `traces[i]`) as a figure with an SVG timeline. */
export function traceTimeline(trace, appIds) {
  const figure = document.createElement("figure");
  figure.className = "trace";
  figure.dataset.traceId = trace.traceId;
  const title = document.createElement("h3");
  const started = new Date(trace.startTimeMs).toLocaleTimeString();
  title.textContent = `${trace.name} · ${trace.appIds.join(" → ")} · ${trace.durationMs.toFixed(1)} ms · ${started}`;
  const height = trace.rows.length * ROW_HEIGHT + 4;
  const svg = svgElement("svg", { width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}` });
  const barWidth = WIDTH - LABEL_WIDTH - 8;
  const scale = barWidth / Math.max(trace.durationMs, 0.001);
  trace.rows.forEach((row, i) => {
    const y = i * ROW_HEIGHT + 2;
    const label = svgElement("text", { x: 4 + row.depth * INDENT, y: y + BAR_HEIGHT - 1 });
    label.textContent = `${row.appId}: ${row.name}`;
    const fill = appColour(appIds, row.appId);
    const bar = svgElement("rect", {
      class: "bar",
      x: (LABEL_WIDTH + row.offsetMs * scale).toFixed(1),
      y,
      width: Math.max(3, row.durationMs * scale).toFixed(1),
      height: BAR_HEIGHT,
      rx: 2,
      fill,
      stroke: row.status === "error" ? "#dc2626" : "none",
      "stroke-width": 2,
      "data-span-id": row.spanId,
      "data-parent-span-id": row.parentSpanId ?? "",
      "data-depth": row.depth,
      "data-app-id": row.appId,
      "data-name": row.name,
      "data-fill": fill,
    });
    const tip = svgElement("title", {});
    tip.textContent = `${row.appId} ${row.kind} ${row.name}: ${row.durationMs.toFixed(2)} ms (+${row.offsetMs.toFixed(2)} ms)${row.status === "error" ? ", error" : ""}`;
    bar.append(tip);
    svg.append(label, bar);
  });
  figure.append(title, svg);
  return figure;
}
