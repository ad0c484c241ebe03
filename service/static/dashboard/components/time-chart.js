// A time series chart (uPlot) with axes, units, a legend that follows the cursor, a tooltip, and the same
// numbers as a table for keyboards, screen readers and tests (data-series / data-points on the figure).
import uPlot from "uplot";
import { useEffect, useRef } from "preact/hooks";
import { html } from "../lib/html.js";
import { shortWhen, when } from "../lib/format.js";

export const PALETTE = ["#2f5bd3", "#e8833a", "#2a9d6f", "#c8454a", "#8a5cc2", "#8c6d46", "#d4699f", "#6b7280", "#b5a300", "#1aa3b8"];

function tooltipPlugin(labels, format) {
  let tip;
  return {
    hooks: {
      init(u) {
        tip = document.createElement("div");
        tip.className = "chart-tip";
        tip.hidden = true;
        u.over.append(tip);
      },
      setCursor(u) {
        const { left, top, idx } = u.cursor;
        if (idx === null || idx === undefined || left < 0) {
          tip.hidden = true;
          return;
        }
        const rows = labels.map((label, i) => `<div><i style="background:${PALETTE[i % PALETTE.length]}"></i>${escape(label)}: <b>${escape(format(i, idx))}</b></div>`);
        tip.innerHTML = `<div class="tip-time">${escape(shortWhen(new Date(u.data[0][idx] * 1000).toISOString()))}</div>${rows.join("")}`;
        tip.hidden = false;
        const flip = left > u.over.clientWidth / 2;
        tip.style.left = flip ? "" : `${left + 12}px`;
        tip.style.right = flip ? `${u.over.clientWidth - left + 12}px` : "";
        tip.style.top = `${Math.max(0, top - 10)}px`;
      },
    },
  };
}

function escape(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

/**
 * starts: ISO bucket starts; series: [{label, values: [number|string|null]}] (decimal strings are plotted
 * as numbers, shown as given); stacked: each series drawn on top of the ones before it.
 */
export function TimeChart({ id, title, unit, starts, series, stacked = false, bars = false, format, axisFormat }) {
  const box = useRef(null);
  const xs = starts.map((s) => new Date(s).getTime() / 1000);
  const key = JSON.stringify([starts, series, stacked, bars]);

  useEffect(() => {
    const element = box.current;
    const numeric = series.map((s) => s.values.map((v) => (v === null || v === undefined ? null : Number(v))));
    let plotted = numeric;
    if (stacked) {
      const running = xs.map(() => 0);
      plotted = numeric.map((values) => values.map((v, i) => (running[i] += v ?? 0)));
    }
    // In the given order everywhere (legend, tooltip, table): series 0 at the bottom of a stack, each next one
    // on top, drawn from the one below it (a band), so no drawing order hides a band.
    const bands = stacked ? series.slice(1).map((_, i) => ({ series: [i + 2, i + 1] })) : [];
    const formatAt = (i, idx) => format(series[i].values[idx]);
    const options = {
      width: element.clientWidth || 600,
      height: 240,
      scales: { x: { time: true } },
      bands,
      legend: { live: true },
      cursor: { points: { size: 6 } },
      plugins: [tooltipPlugin(series.map((s) => s.label), formatAt)],
      axes: [
        { stroke: "#555", grid: { stroke: "#eee" } },
        { stroke: "#555", grid: { stroke: "#eee" }, label: unit, size: 72, values: (_, splits) => splits.map((v) => (axisFormat ? axisFormat(v) : String(v))) },
      ],
      series: [
        { label: "Time", value: (_, ts) => (ts === null ? "—" : when(new Date(ts * 1000).toISOString())) },
        ...series.map((_, i) => ({
          label: series[i].label,
          stroke: PALETTE[i % PALETTE.length],
          fill: stacked || bars ? PALETTE[i % PALETTE.length] + (stacked ? "" : "55") : undefined,
          width: bars ? 0 : 2,
          paths: bars ? uPlot.paths.bars({ size: [0.8, 48] }) : undefined,
          points: { show: !bars && xs.length < 60 },
          value: (_, __, ___, idx) => (idx === null || idx === undefined ? "—" : formatAt(i, idx)),
        })),
      ],
    };
    const chart = new uPlot(options, [xs, ...plotted], element);
    const resize = new ResizeObserver(() => chart.setSize({ width: element.clientWidth, height: 240 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [key]);

  return html`<figure class="chart" data-chart=${id} data-series=${series.length} data-points=${starts.length} data-labels=${JSON.stringify(series.map((s) => s.label))}>
    <figcaption>${title} <span class="muted">(${unit})</span></figcaption>
    <div class="chart-canvas" ref=${box}></div>
    <details class="chart-data">
      <summary>Show the numbers</summary>
      <div class="table-wrap">
        <table data-table=${`${id}-data`}>
          <thead><tr><th scope="col">Bucket start</th>${series.map((s) => html`<th scope="col" class="num">${s.label}</th>`)}</tr></thead>
          <tbody>
            ${starts.map((s, idx) => html`<tr data-row=${idx}><td>${when(s)}</td>${series.map((x, i) => html`<td class="num" data-col=${i} data-value=${x.values[idx] ?? ""}>${format(x.values[idx])}</td>`)}</tr>`)}
          </tbody>
        </table>
      </div>
    </details>
  </figure>`;
}
