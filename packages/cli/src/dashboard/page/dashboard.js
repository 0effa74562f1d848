// The dashboard page: polls /api/snapshot and draws the apps, their rates and the recent traces.
import { RateHistory, rateChart } from "./charts.js";
import { traceTimeline } from "./timeline.js";

const POLL_MS = 1000;
const history = new RateHistory();
let tracesDrawn = "";

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-"))
      node.dataset[key.slice(5).replace(/-(.)/g, (_, c) => c.toUpperCase())] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function badge(text, state) {
  return el("span", { class: `badge ${state}` }, text);
}

function table(headings, rows, className) {
  return el(
    "table",
    { class: className },
    el("thead", {}, el("tr", {}, ...headings.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows),
  );
}

function appCard(app) {
  const sidecarState = app.sidecar === "ready" ? "ok" : "bad";
  const heading = el(
    "h2",
    {},
    app.appId,
    badge(`sidecar ${app.sidecar}`, sidecarState),
    ...(app.appHealth
      ? [badge(`app ${app.appHealth}`, app.appHealth === "healthy" ? "ok" : "bad")]
      : []),
  );
  const ports = [`HTTP ${app.httpPort}`, `gRPC ${app.grpcPort}`];
  if (app.appPort) ports.push(`app ${app.appPort}`);
  if (app.metricsPort) ports.push(`metrics ${app.metricsPort}`);
  const meta = el(
    "p",
    { class: "meta" },
    `${ports.join(" · ")} · pid ${app.cliPid} · ${app.command || "no app command"}`,
  );

  const rates = history.get(app.appId);
  const charts =
    app.metrics === "ok" && rates
      ? el(
          "div",
          { class: "charts" },
          el(
            "div",
            { "data-chart": "requests" },
            rateChart("requests/s", [{ label: "API", colour: "#2563eb", values: rates.requests }]),
          ),
          el(
            "div",
            { "data-chart": "messages" },
            rateChart("messages/s", [
              { label: "in", colour: "#16a34a", values: rates.messagesIn },
              { label: "out", colour: "#d97706", values: rates.messagesOut },
            ]),
          ),
        )
      : el(
          "p",
          { class: "meta" },
          app.metrics === "off"
            ? "metrics are off (--enable-metrics=false)"
            : "metrics unreachable",
        );

  const components = table(
    ["component", "type", "version", "health", "capabilities"],
    app.components.map((c) =>
      el(
        "tr",
        { "data-component": c.name },
        el("td", {}, c.name),
        el("td", {}, c.type),
        el("td", {}, c.version),
        el("td", {}, app.sidecar === "unreachable" ? "unknown" : "loaded"),
        el("td", {}, c.capabilities.join(", ") || "—"),
      ),
    ),
    "components",
  );
  const subscriptions = table(
    ["pub/sub", "topic", "routes", "dead letter", "type"],
    app.subscriptions.map((s) =>
      el(
        "tr",
        { "data-subscription": `${s.pubsubname}/${s.topic}` },
        el("td", {}, s.pubsubname),
        el("td", {}, s.topic),
        el("td", {}, s.routes.join(", ")),
        el("td", {}, s.deadLetterTopic || "—"),
        el("td", {}, s.type),
      ),
    ),
    "subscriptions",
  );
  const errors = el("ul", { class: "errors" }, ...app.errors.map((e) => el("li", {}, e)));
  return el(
    "article",
    { class: "app", "data-app-id": app.appId, "data-sidecar": app.sidecar },
    heading,
    meta,
    charts,
    components,
    subscriptions,
    errors,
  );
}

function drawTraces(snapshot) {
  const note = document.getElementById("traces-note");
  const withBuffer = snapshot.apps.filter((a) => a.spans === "ok").length;
  note.textContent =
    snapshot.apps.length === 0
      ? ""
      : withBuffer === 0
        ? "No sidecar serves a span buffer (GET /outrig/v1/spans)."
        : snapshot.traces.length === 0
          ? "No traces yet."
          : `The newest ${snapshot.traces.length} traces from ${withBuffer} sidecars.`;
  // Redrawn only when a trace or span came or went, so the timeline holds still to be read.
  const drawn = snapshot.traces.map((t) => `${t.traceId}:${t.rows.length}`).join(",");
  if (drawn === tracesDrawn) return;
  tracesDrawn = drawn;
  const appIds = [
    ...new Set([...snapshot.apps.map((a) => a.appId), ...snapshot.traces.flatMap((t) => t.appIds)]),
  ].sort();
  document
    .getElementById("timeline")
    .replaceChildren(...snapshot.traces.map((t) => traceTimeline(t, appIds)));
}

function draw(snapshot) {
  for (const app of snapshot.apps) history.add(snapshot.at, app.appId, app.counters);
  history.retain(new Set(snapshot.apps.map((a) => a.appId)));
  const apps = document.getElementById("apps");
  if (snapshot.apps.length === 0) {
    apps.replaceChildren(el("p", { class: "meta" }, "No apps running: start one with outrig run."));
  } else apps.replaceChildren(...snapshot.apps.map(appCard));
  drawTraces(snapshot);
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const response = await fetch("/api/snapshot", { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`the dashboard answered ${response.status}`);
    const snapshot = await response.json();
    draw(snapshot);
    status.dataset.state = "ok";
    status.textContent = `${snapshot.apps.length} apps · updated ${new Date(snapshot.at).toLocaleTimeString()}`;
  } catch (error) {
    status.dataset.state = "error";
    status.textContent = `cannot reach the dashboard server: ${error.message}`;
  }
  // The next poll waits for this one: a slow answer never piles requests up.
  setTimeout(poll, POLL_MS);
}

poll();
