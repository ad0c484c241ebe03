// Overview: the headline figures against the previous period, cost and calls over time (stacked by
// provider or model), and the top models, task types and users.
import { useEffect } from "preact/hooks";
import { html } from "../lib/html.js";
import { useQuery } from "../lib/use-query.js";
import { intervalFor, timeRange, usageFilter, keptParams } from "../lib/filters.js";
import { cacheHitShare, count, milliseconds, money, share, shortCount, timeZone } from "../lib/format.js";
import { href, setParams } from "../lib/router.js";
import { ErrorNote, Loadable } from "../components/states.js";
import { StatCard } from "../components/stat-card.js";
import { DataTable } from "../components/data-table.js";
import { seriesOf } from "../components/series.js";
import { TimeChart } from "../components/time-chart.js";

// Two requests, sent together: everything the rollups answer, and the p95 latency, which only the events
// answer (percentile_cont): the fast panels paint without waiting for it.
const QUERY = `query Overview($filter: UsageFilter!, $interval: TimeInterval!, $timeZone: String!, $stack: [UsageDimension!]) {
  usageAnalytics(filter: $filter, compareTo: PREVIOUS_PERIOD) {
    totals { ...Headline }
    previous { ...Headline }
    change { calls costUsd totalTokens errorRate avgDurationMs }
    byModel { key metrics { calls totalTokens costUsd } }
    byTaskType { key metrics { calls totalTokens costUsd } }
  }
  usageTimeSeries(filter: $filter, interval: $interval, timeZone: $timeZone, groupBy: $stack) {
    columns { starts totals { calls costUsd } groups { dimensions { value } metrics { calls costUsd } } }
  }
  topUsers(filter: $filter, by: COST, limit: 10) { userId user { displayName } metrics { calls totalTokens costUsd } }
}
fragment Headline on UsageMetrics {
  calls totalTokens promptTokens cachedPromptTokens costUsd avgDurationMs errorRate
}`;

const LATENCY = `query OverviewLatency($filter: UsageFilter!) {
  usageAnalytics(filter: $filter, compareTo: PREVIOUS_PERIOD) {
    totals { calls p95DurationMs } previous { calls p95DurationMs } change { p95DurationMs }
  }
}`;

const STACKS = { provider: "PROVIDER", model: "MODEL" };

function shareChange(now, before) {
  const a = cacheHitShare(now);
  const b = cacheHitShare(before);
  if (a === null || b === null || b === 0) return null;
  return ((a - b) / b) * 100;
}

function P95Card({ latency }) {
  if (latency.error) return html`<div class="stat" data-stat="p95-latency"><div class="stat-label">p95 latency</div><${ErrorNote} error=${latency.error} retry=${latency.reload} /></div>`;
  if (!latency.data) return html`<div class="stat" data-stat="p95-latency" aria-busy="true"><div class="stat-label">p95 latency</div><div class="stat-value muted">…</div></div>`;
  const { totals: t, previous: p, change: c } = latency.data.usageAnalytics;
  return html`<${StatCard} id="p95-latency" label="p95 latency" text=${milliseconds(t.p95DurationMs)} value=${t.p95DurationMs} delta=${c?.p95DurationMs} hadPrevious=${Number(p?.calls) > 0} worseWhenUp />`;
}

function Headlines({ analytics, latency }) {
  const { totals: t, previous: p, change: c } = analytics;
  const had = Number(p?.calls) > 0;
  return html`<section class="stats" aria-label="Totals">
    <${StatCard} id="calls" label="Calls" text=${shortCount(t.calls)} title=${count(t.calls)} value=${t.calls} delta=${c?.calls} hadPrevious=${had} />
    <${StatCard} id="tokens" label="Tokens" text=${shortCount(t.totalTokens)} title=${count(t.totalTokens)} value=${t.totalTokens} delta=${c?.totalTokens} hadPrevious=${had} />
    <${StatCard} id="cost" label="Cost" text=${money(t.costUsd)} title=${`$${t.costUsd}`} value=${t.costUsd} delta=${c?.costUsd} hadPrevious=${had} worseWhenUp />
    <${StatCard} id="avg-latency" label="Average latency" text=${milliseconds(t.avgDurationMs)} value=${t.avgDurationMs} delta=${c?.avgDurationMs} hadPrevious=${had} worseWhenUp />
    <${P95Card} latency=${latency} />
    <${StatCard} id="error-rate" label="Error rate" text=${share(t.errorRate)} value=${t.errorRate} delta=${c?.errorRate} hadPrevious=${had} worseWhenUp />
    <${StatCard} id="cache-hits" label="Cache-hit share" text=${share(cacheHitShare(t))} value=${cacheHitShare(t)} delta=${shareChange(t, p)} hadPrevious=${cacheHitShare(p) !== null} title="cached prompt tokens / all prompt tokens" />
  </section>`;
}

const groupColumns = (label, filterParam) => [
  { id: "key", label, cell: (g) => (g.key === null ? html`<span class="muted">none</span>` : html`<a href="#" onClick=${(e) => { e.preventDefault(); setParams({ [filterParam]: g.key }); }}>${g.key}</a>`) },
  { id: "calls", label: "Calls", numeric: true, cell: (g) => count(g.metrics.calls), value: (g) => g.metrics.calls },
  { id: "tokens", label: "Tokens", numeric: true, cell: (g) => count(g.metrics.totalTokens), value: (g) => g.metrics.totalTokens },
  { id: "cost", label: "Cost", numeric: true, cell: (g) => money(g.metrics.costUsd), value: (g) => g.metrics.costUsd },
];

export function Overview({ params, workspace }) {
  const range = timeRange(params);
  const stack = STACKS[params.stack] ? params.stack : "provider";
  const filter = usageFilter(params, workspace.slug);
  const query = useQuery(QUERY, { filter, interval: intervalFor(range), timeZone, stack: [STACKS[stack]] });
  const latency = useQuery(LATENCY, { filter });
  const kept = keptParams(params);
  // Marks for bench/dashboard.py (and anyone profiling): the rollup-served panels drawn (the charts' effects
  // ran first), then every panel, the p95 latency included.
  const panels = query.data && !query.loading;
  const all = panels && latency.data && !latency.loading;
  useEffect(() => void (panels && performance.mark("llm-usage:overview-panels")), [panels, query.data]);
  useEffect(() => void (all && performance.mark("llm-usage:overview-ready")), [all, query.data, latency.data]);
  return html`<h1>Overview</h1>
    <${Loadable} query=${query} what="the overview">${(data) => {
      const columns = data.usageTimeSeries.columns;
      const starts = columns.starts;
      const users = data.topUsers.map((u) => ({ key: u.userId, name: u.user?.displayName, metrics: u.metrics }));
      return html`<${Headlines} analytics=${data.usageAnalytics} latency=${latency} />
        <div class="toolbar">
          <label>Stack the charts by
            <select value=${stack} onChange=${(e) => setParams({ stack: e.currentTarget.value })} name="stack">
              <option value="provider">provider</option><option value="model">model</option>
            </select></label>
        </div>
        <div class="charts">
          <${TimeChart} id="cost" title="Cost over time" unit="USD" starts=${starts} series=${seriesOf(columns, "costUsd")}
            stacked bars format=${money} axisFormat=${(v) => `$${v}`} />
          <${TimeChart} id="calls" title="Calls over time" unit="calls" starts=${starts} series=${seriesOf(columns, "calls")}
            stacked bars format=${count} axisFormat=${count} />
        </div>
        <div class="tables">
          <${DataTable} id="top-models" caption="Top models" columns=${groupColumns("Model", "model")} rows=${data.usageAnalytics.byModel.slice(0, 10)} />
          <${DataTable} id="top-task-types" caption="Top task types" columns=${groupColumns("Task type", "task")} rows=${data.usageAnalytics.byTaskType.slice(0, 10)} />
          <${DataTable} id="top-users" caption="Top users" rows=${users} columns=${[
            { id: "key", label: "User", cell: (u) => (u.key === null ? "none" : html`<a href=${href(["users", u.key], kept)}>${u.name ? `${u.name} (${u.key})` : u.key}</a>`) },
            ...groupColumns("", "user").slice(1),
          ]} />
        </div>`;
    }}<//>`;
}
