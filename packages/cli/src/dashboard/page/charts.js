// Small SVG line charts of recent rates; no charting library.
const SVG = "http://www.w3.org/2000/svg";
export const CHART_POINTS = 60;

/**
 * A chart of one or more series (`{ label, colour, values }`, the newest value last), scaled to
 * the largest value shown. The figure carries `data-rate` (the first series' newest value) so
 * tests and scripts can read what it draws.
 */
export function rateChart(title, series, width = 200, height = 48) {
  const figure = document.createElement("figure");
  figure.className = "chart";
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  for (const s of series) {
    const line = document.createElementNS(SVG, "polyline");
    const step = width / (CHART_POINTS - 1);
    const offset = CHART_POINTS - s.values.length;
    line.setAttribute(
      "points",
      s.values
        .map(
          (v, i) =>
            `${((offset + i) * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`,
        )
        .join(" "),
    );
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", s.colour);
    line.setAttribute("stroke-width", "1.5");
    line.dataset.series = s.label;
    svg.append(line);
  }
  const caption = document.createElement("figcaption");
  caption.textContent = `${title}: ${series.map((s) => `${s.label} ${format(s.values.at(-1) ?? 0)}`).join(", ")}`;
  figure.dataset.rate = String(series[0]?.values.at(-1) ?? 0);
  figure.append(svg, caption);
  return figure;
}

function format(rate) {
  return rate >= 10 ? rate.toFixed(0) : rate.toFixed(1);
}

/** Per app, the counters of the last snapshot and the rates since, turned into chart series. */
export class RateHistory {
  #apps = new Map();

  /** Adds one snapshot's counters; an app's counter that went down (a restart) counts as 0/s. */
  add(at, appId, counters) {
    const entry = this.#apps.get(appId) ?? {
      last: undefined,
      requests: [],
      messagesIn: [],
      messagesOut: [],
    };
    this.#apps.set(appId, entry);
    if (!counters) return;
    if (entry.last) {
      const seconds = (at - entry.last.at) / 1000;
      if (seconds > 0) {
        const rate = (keys) =>
          Math.max(
            0,
            keys.reduce((sum, k) => sum + counters[k] - entry.last.counters[k], 0) / seconds,
          );
        push(entry.requests, rate(["httpRequests", "grpcRequests"]));
        push(entry.messagesIn, rate(["pubsubIngress"]));
        push(entry.messagesOut, rate(["pubsubEgress"]));
      }
    }
    entry.last = { at, counters };
  }

  get(appId) {
    return this.#apps.get(appId);
  }

  /** Forgets apps no longer running. */
  retain(appIds) {
    for (const id of this.#apps.keys()) if (!appIds.has(id)) this.#apps.delete(id);
  }
}

function push(values, value) {
  values.push(value);
  if (values.length > CHART_POINTS) values.shift();
}
