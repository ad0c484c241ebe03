// Events: the filtered events, newest first, a page at a time (the cursor is in the URL), every field of
// an event on demand, and CSV / JSON Lines export of the filter shown.
import { useState } from "preact/hooks";
import { html } from "../lib/html.js";
import { useQuery } from "../lib/use-query.js";
import { downloadExport } from "../lib/api.js";
import { usageFilter, keptParams } from "../lib/filters.js";
import { count, milliseconds, money, rate, tags, when } from "../lib/format.js";
import { href, setParams } from "../lib/router.js";
import { Loadable, ErrorNote } from "../components/states.js";
import { DataTable } from "../components/data-table.js";
import { Pager, usePages } from "../components/pager.js";

export const EVENT_FIELDS = `id requestId occurredAt receivedAt provider model providerInstanceId taskType userId sessionId
  promptTokens completionTokens totalTokens cachedPromptTokens cacheWriteTokens reasoningTokens
  inputCostUsd outputCostUsd costUsd costSource durationMs timeToFirstTokenMs tokensPerSecond
  status errorType errorMessage retryCount streamed tags`;

const QUERY = `query Events($filter: UsageFilter!, $first: Int!, $after: String) {
  usageEvents(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { node { ${EVENT_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const PAGE_SIZES = [25, 50, 100, 200];

/** The columns of an event list; `kept` are the filter parameters links keep. */
export function eventColumns(kept, onDetails) {
  return [
    { id: "time", label: "Time", cell: (e) => when(e.occurredAt), value: (e) => e.occurredAt },
    { id: "provider", label: "Provider", cell: (e) => e.provider },
    { id: "model", label: "Model", cell: (e) => e.model },
    { id: "task", label: "Task type", cell: (e) => e.taskType ?? "—" },
    { id: "user", label: "User", cell: (e) => (e.userId ? html`<a href=${href(["users", e.userId], kept)}>${e.userId}</a>` : "—") },
    { id: "session", label: "Session", cell: (e) => (e.sessionId ? html`<a href=${href(["sessions", e.sessionId], kept)}>${e.sessionId}</a>` : "—") },
    { id: "prompt", label: "Prompt", numeric: true, cell: (e) => count(e.promptTokens), value: (e) => e.promptTokens },
    { id: "cached", label: "Cached", numeric: true, cell: (e) => count(e.cachedPromptTokens), value: (e) => e.cachedPromptTokens },
    { id: "completion", label: "Completion", numeric: true, cell: (e) => count(e.completionTokens), value: (e) => e.completionTokens },
    { id: "total", label: "Total", numeric: true, cell: (e) => count(e.totalTokens), value: (e) => e.totalTokens },
    { id: "cost", label: "Cost", numeric: true, cell: (e) => html`<span title=${e.costSource}>${money(e.costUsd)}</span>`, value: (e) => e.costUsd },
    { id: "duration", label: "Duration", numeric: true, cell: (e) => milliseconds(e.durationMs), value: (e) => e.durationMs },
    { id: "ttft", label: "TTFT", numeric: true, cell: (e) => milliseconds(e.timeToFirstTokenMs), value: (e) => e.timeToFirstTokenMs },
    { id: "speed", label: "Speed", numeric: true, cell: (e) => rate(e.tokensPerSecond), value: (e) => e.tokensPerSecond },
    { id: "status", label: "Status", cell: (e) => html`<span class=${`badge ${e.status === "ERROR" ? "error" : "ok"}`}>${e.status}</span>${e.errorType ? ` ${e.errorType}` : ""}` },
    ...(onDetails ? [{ id: "details", label: "", cell: (e) => html`<button type="button" class="link" onClick=${() => onDetails(e)}>All fields</button>` }] : []),
  ];
}

function EventDetails({ event, onClose }) {
  return html`<section class="panel" aria-label="Every field of the event" data-event-details=${event.id}>
    <div class="toolbar"><h2>Event ${event.requestId}</h2><button type="button" class="secondary" onClick=${onClose}>Close</button></div>
    <dl class="fields">${Object.entries(event).map(([k, v]) => html`<dt>${k}</dt><dd>${k === "tags" ? tags(v) : v === null ? "—" : String(v)}</dd>`)}</dl>
  </section>`;
}

export function Events({ params, workspace }) {
  const asked = Math.trunc(Number(params.size));
  const first = asked >= 1 && asked <= 500 ? asked : 50; // the API serves at most 500 a page
  const sizes = PAGE_SIZES.includes(first) ? PAGE_SIZES : [...PAGE_SIZES, first].sort((a, b) => a - b);
  const pages = usePages(params);
  const [details, setDetails] = useState(null);
  const [exporting, setExporting] = useState({ error: null, done: null, busy: false });
  const filter = usageFilter(params, workspace.slug);
  const query = useQuery(QUERY, { filter, first, after: params.after || null });
  const kept = keptParams(params);

  const exportAs = async (format) => {
    setExporting({ error: null, done: null, busy: true });
    try {
      setExporting({ error: null, done: await downloadExport(filter, format), busy: false });
    } catch (error) {
      setExporting({ error, done: null, busy: false });
    }
  };

  return html`<h1>Events</h1>
    <div class="toolbar">
      <label>Per page
        <select name="size" value=${first} onChange=${(e) => { pages.reset(); setParams({ size: e.currentTarget.value, after: "" }); }}>
          ${sizes.map((n) => html`<option value=${n}>${n}</option>`)}
        </select></label>
      <button type="button" class="secondary" disabled=${exporting.busy} onClick=${() => exportAs("CSV")} data-export="CSV">Export CSV</button>
      <button type="button" class="secondary" disabled=${exporting.busy} onClick=${() => exportAs("JSONL")} data-export="JSONL">Export JSON Lines</button>
      ${exporting.done ? html`<span class="muted" data-exported=${exporting.done}>Downloaded ${exporting.done}</span>` : ""}
    </div>
    <${ErrorNote} error=${exporting.error} />
    ${details ? html`<${EventDetails} event=${details} onClose=${() => setDetails(null)} />` : ""}
    <${Loadable} query=${query} what="events">${(data) => {
      const page = data.usageEvents;
      const rows = page.edges.map((e) => e.node);
      const start = pages.index * first;
      return html`<p class="muted" data-total=${page.totalCount}>
          ${rows.length ? `Events ${count(start + 1)}–${count(start + rows.length)} of ${count(page.totalCount)}` : "No events"}, newest first. The export holds every event of this filter, oldest first.</p>
        <${DataTable} id="events" caption="Events" columns=${eventColumns(kept, setDetails)} rows=${rows} rowKey=${(e) => e.id}
          empty="No event matches these filters in this time range." />
        <${Pager} pages=${pages} params=${params} pageInfo=${page.pageInfo} />`;
    }}<//>`;
}
