// Performance: time to first token, tokens per second, duration p95, error rate and retries per model, and
// over time. Over whole UTC days the percentiles come from the rollup's latency histograms (within 2%).
import { html } from "../lib/html.js";
import { useQuery } from "../lib/use-query.js";
import { intervalFor, timeRange, usageFilter } from "../lib/filters.js";
import { count, milliseconds, rate, share, timeZone } from "../lib/format.js";
import { Loadable } from "../components/states.js";
import { DataTable } from "../components/data-table.js";
import { TimeChart } from "../components/time-chart.js";

const QUERY = `query Performance($filter: UsageFilter!, $interval: TimeInterval!, $timeZone: String!) {
  usage(filter: $filter, groupBy: [PROVIDER, MODEL], orderBy: {by: P95_DURATION_MS, direction: DESC}, limit: 50) {
    groups { dimensions { value } metrics { ...Speed } }
  }
  usageTimeSeries(filter: $filter, interval: $interval, timeZone: $timeZone) {
    buckets { start metrics { ...Speed } }
  }
}
fragment Speed on UsageMetrics {
  calls errorRate retries p50DurationMs p95DurationMs p50TimeToFirstTokenMs p95TimeToFirstTokenMs avgTokensPerSecond
}`;

const round = (v) => (v === null || v === undefined ? null : Math.round(v * 10) / 10);

export function Performance({ params, workspace }) {
  const range = timeRange(params);
  const query = useQuery(QUERY, { filter: usageFilter(params, workspace.slug), interval: intervalFor(range), timeZone });
  return html`<h1>Performance</h1>
    <${Loadable} query=${query} what="performance">${(data) => {
      const buckets = data.usageTimeSeries.buckets;
      const starts = buckets.map((b) => b.start);
      const line = (label, pick) => ({ label, values: buckets.map((b) => round(pick(b.metrics))) });
      return html`<div class="charts">
          <${TimeChart} id="latency" title="Latency over time" unit="ms" starts=${starts} format=${milliseconds} axisFormat=${count}
            series=${[line("Duration p95", (m) => m.p95DurationMs), line("Duration p50", (m) => m.p50DurationMs), line("TTFT p95", (m) => m.p95TimeToFirstTokenMs), line("TTFT p50", (m) => m.p50TimeToFirstTokenMs)]} />
          <${TimeChart} id="throughput" title="Tokens per second, errors and retries over time" unit="tok/s · % errors · retries" starts=${starts} format=${(v) => String(v ?? "—")} axisFormat=${count}
            series=${[line("Tokens/s", (m) => m.avgTokensPerSecond), line("Error rate %", (m) => (Number(m.calls) ? m.errorRate * 100 : null)), line("Retries", (m) => Number(m.retries))]} />
        </div>
        <${DataTable} id="performance" caption="Per model, slowest p95 first" rows=${data.usage.groups} columns=${[
          { id: "provider", label: "Provider", cell: (g) => g.dimensions[0].value },
          { id: "model", label: "Model", cell: (g) => g.dimensions[1].value },
          { id: "calls", label: "Calls", numeric: true, cell: (g) => count(g.metrics.calls), value: (g) => g.metrics.calls },
          { id: "ttft-p50", label: "TTFT p50", numeric: true, cell: (g) => milliseconds(g.metrics.p50TimeToFirstTokenMs), value: (g) => g.metrics.p50TimeToFirstTokenMs },
          { id: "ttft-p95", label: "TTFT p95", numeric: true, cell: (g) => milliseconds(g.metrics.p95TimeToFirstTokenMs), value: (g) => g.metrics.p95TimeToFirstTokenMs },
          { id: "speed", label: "Tokens/s", numeric: true, cell: (g) => rate(g.metrics.avgTokensPerSecond), value: (g) => g.metrics.avgTokensPerSecond },
          { id: "p50", label: "Duration p50", numeric: true, cell: (g) => milliseconds(g.metrics.p50DurationMs), value: (g) => g.metrics.p50DurationMs },
          { id: "p95", label: "Duration p95", numeric: true, cell: (g) => milliseconds(g.metrics.p95DurationMs), value: (g) => g.metrics.p95DurationMs },
          { id: "errors", label: "Error rate", numeric: true, cell: (g) => share(g.metrics.errorRate), value: (g) => g.metrics.errorRate },
          { id: "retries", label: "Retries", numeric: true, cell: (g) => count(g.metrics.retries), value: (g) => g.metrics.retries },
        ]} />`;
    }}<//>`;
}
