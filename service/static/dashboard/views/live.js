// Live: calls as they are tracked (usageTracked) and budget alerts as they fire (budgetAlerts), over one
// graphql-transport-ws socket. The time range does not apply: this is what happens from now on.
import { useEffect, useState } from "preact/hooks";
import { html } from "../lib/html.js";
import { live } from "../lib/live.js";
import { usageFilter, keptParams } from "../lib/filters.js";
import { money, when } from "../lib/format.js";
import { useQuery } from "../lib/use-query.js";
import { DataTable } from "../components/data-table.js";
import { ErrorNote } from "../components/states.js";
import { EVENT_FIELDS, eventColumns } from "./events.js";

const TRACKED = `subscription Live($filter: UsageFilter!) { usageTracked(filter: $filter) { ${EVENT_FIELDS} } }`;
const ALERTS = `subscription Alerts($ws: ID!) { budgetAlerts(workspaceId: $ws) { id budgetId thresholdPercent spentUsd limitUsd createdAt } }`;
const KEEP = 200;

const STATUS_TEXT = { idle: "not connected", connecting: "connecting…", open: "live", reconnecting: "reconnecting…", refused: "refused" };

export function Live({ params, workspace }) {
  const [events, setEvents] = useState([]);
  const [alerts, setAlerts] = useState([]);
  const [status, setStatus] = useState({ status: "idle", reason: "" });
  const [error, setError] = useState(null);
  const [paused, setPaused] = useState(false);
  const filter = usageFilter(params, workspace.slug, { withTime: false });
  const key = JSON.stringify(filter);
  const budgets = useQuery("query BudgetNames($ws: ID!) { budgets(workspaceId: $ws) { id name } }", { ws: workspace.slug });
  const budgetName = (id) => budgets.data?.budgets.find((b) => b.id === id)?.name ?? id;

  useEffect(() => {
    if (paused) return undefined;
    const connection = live();
    const stopStatus = connection.onStatus((s, reason) => setStatus({ status: s, reason }));
    const fail = (e) => setError({ code: e.extensions?.code ?? "ERROR", message: e.message });
    const stopEvents = connection.subscribe(TRACKED, { filter }, {
      next: (data) => setEvents((list) => [data.usageTracked, ...list].slice(0, KEEP)),
      error: fail,
    });
    const stopAlerts = connection.subscribe(ALERTS, { ws: workspace.slug }, {
      next: (data) => {
        setAlerts((list) => [data.budgetAlerts, ...list].slice(0, KEEP));
        budgets.reload();
      },
      error: fail,
    });
    return () => {
      stopEvents();
      stopAlerts();
      stopStatus();
    };
  }, [key, paused]);

  return html`<h1>Live</h1>
    <div class="toolbar">
      <span class="live-status" role="status" data-status=${status.status}>● ${STATUS_TEXT[status.status]}${status.reason ? ` (${status.reason})` : ""}</span>
      <button type="button" class="secondary" onClick=${() => setPaused(!paused)}>${paused ? "Resume" : "Pause"}</button>
      <button type="button" class="secondary" onClick=${() => { setEvents([]); setAlerts([]); }}>Clear</button>
      <span class="muted">New calls matching the filters (not the time range) appear here as they are stored; the latest ${KEEP} are kept.</span>
    </div>
    <${ErrorNote} error=${error} />
    <h2>Budget alerts</h2>
    <${DataTable} id="live-alerts" caption="Budget alerts as they fire" rows=${alerts} rowKey=${(a) => a.id} empty="No budget alert since you opened this page."
      columns=${[
        { id: "time", label: "Time", cell: (a) => when(a.createdAt) },
        { id: "budget", label: "Budget", cell: (a) => budgetName(a.budgetId) },
        { id: "threshold", label: "Threshold", numeric: true, cell: (a) => `${a.thresholdPercent}%`, value: (a) => a.thresholdPercent },
        { id: "spent", label: "Spent", numeric: true, cell: (a) => `${money(a.spentUsd)} of ${money(a.limitUsd)}`, value: (a) => a.spentUsd },
      ]} />
    <h2>Calls</h2>
    <div data-live-count=${events.length}>
      <${DataTable} id="live-events" caption="Calls as they are tracked" rows=${events} rowKey=${(e) => e.id}
        empty="Waiting for calls…" columns=${eventColumns(keptParams(params))} />
    </div>`;
}
