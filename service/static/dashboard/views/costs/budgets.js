// Budgets: spend in the current period against the limit, forecast, alerts and webhook deliveries;
// ADMIN keys create, pause and resume them.
import { useState } from "preact/hooks";
import { html } from "../../lib/html.js";
import { useMutation, useQuery } from "../../lib/use-query.js";
import { money, timeZone, when } from "../../lib/format.js";
import { ErrorNote, Loadable } from "../../components/states.js";
import { DataTable } from "../../components/data-table.js";
import { SpendBar } from "../../components/spend-bar.js";

const QUERY = `query Budgets($ws: ID!) {
  budgets(workspaceId: $ws) {
    id name scope scopeValue scopeTagKey period timeZone limitUsd thresholds paused periodStart periodEnd
    spentUsd remainingUsd percentUsed exceeded forecastUsd webhookUrls
    alerts { id thresholdPercent spentUsd createdAt }
  }
}`;
const CREATE = `mutation CreateBudget($input: CreateBudgetInput!) { createBudget(input: $input) { budget { id } webhookSecret } }`;
const UPDATE = `mutation UpdateBudget($id: ID!, $input: UpdateBudgetInput!) { updateBudget(id: $id, input: $input) { id } }`;
const PAUSE = `mutation PauseBudget($id: ID!, $paused: Boolean!) { updateBudget(id: $id, input: {paused: $paused}) { id paused } }`;
const DELIVERIES = `query Deliveries($id: ID!) { webhookDeliveries(budgetId: $id) { id url status attemptCount createdAt deliveredAt nextAttemptAt } }`;

const SCOPES = ["WORKSPACE", "USER", "PROVIDER", "PROVIDER_INSTANCE", "MODEL", "TASK_TYPE", "TAG"];

function fieldsOf(budget) {
  if (!budget) return { name: "", limit: "", period: "MONTHLY", scope: "WORKSPACE", value: "", tagKey: "", thresholds: "50, 80, 100", hooks: "" };
  return {
    name: budget.name, limit: budget.limitUsd, period: budget.period, scope: budget.scope, value: budget.scopeValue ?? "",
    tagKey: budget.scopeTagKey ?? "", thresholds: budget.thresholds.join(", "), hooks: budget.webhookUrls.join(" "),
  };
}

/** Creates a budget, or (given `budget`) changes it; webhook URLs are sent only when they were edited. */
function BudgetForm({ workspace, budget, onSaved, onCancel }) {
  const mutation = useMutation(budget ? UPDATE : CREATE);
  const initial = fieldsOf(budget);
  const [f, setF] = useState(initial);
  const set = (name) => (e) => setF({ ...f, [name]: e.currentTarget.value });
  const submit = async (event) => {
    event.preventDefault();
    const input = { name: f.name.trim(), limitUsd: f.limit.trim(), period: f.period, scope: f.scope };
    if (!budget) Object.assign(input, { workspaceId: workspace.slug, timeZone });
    if (f.scope !== "WORKSPACE") input.scopeValue = f.value.trim();
    if (f.scope === "TAG") input.scopeTagKey = f.tagKey.trim();
    const thresholds = f.thresholds.split(",").map((t) => t.trim()).filter(Boolean);
    if (thresholds.length) input.thresholds = thresholds.map(Number);
    const hooks = f.hooks.split(/\s+/).filter(Boolean);
    if (budget ? f.hooks !== initial.hooks : hooks.length) input.webhookUrls = hooks;
    const data = await mutation.run(budget ? { id: budget.id, input } : { input });
    if (data) onSaved(data.createBudget ?? null);
  };
  return html`<form class="panel" onSubmit=${submit} aria-label=${budget ? `Edit ${budget.name}` : "New budget"} data-budget-form=${budget?.id ?? "new"}>
    <strong>${budget ? `Edit “${budget.name}”` : "New budget"}</strong>
    <label>Name <input name="name" required value=${f.name} onInput=${set("name")} /></label>
    <label>Limit (USD) <input name="limitUsd" required inputmode="decimal" value=${f.limit} onInput=${set("limit")} placeholder="500" /></label>
    <label>Period <select name="period" value=${f.period} onChange=${set("period")}>${["DAILY", "WEEKLY", "MONTHLY"].map((p) => html`<option>${p}</option>`)}</select></label>
    <label>Counts <select name="scope" value=${f.scope} onChange=${set("scope")}>${SCOPES.map((s) => html`<option>${s}</option>`)}</select></label>
    ${f.scope === "TAG" ? html`<label>Tag key <input name="scopeTagKey" required value=${f.tagKey} onInput=${set("tagKey")} /></label>` : ""}
    ${f.scope !== "WORKSPACE" ? html`<label>Value <input name="scopeValue" required value=${f.value} onInput=${set("value")} /></label>` : ""}
    <label>Alert at (% of limit) <input name="thresholds" value=${f.thresholds} onInput=${set("thresholds")} /></label>
    <label>Webhook URLs <input name="webhookUrls" value=${f.hooks} onInput=${set("hooks")} placeholder="https://hooks.slack.com/…" /></label>
    <button type="submit" disabled=${mutation.running}>${budget ? "Save" : "Create budget"}</button>
    <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    <span class="muted">${budget ? `Periods follow ${budget.timeZone}.` : `Periods follow ${timeZone}.`}</span>
    <${ErrorNote} error=${mutation.error} />
  </form>`;
}

function Deliveries({ budget }) {
  const query = useQuery(DELIVERIES, { id: budget.id });
  return html`<${Loadable} query=${query} what="webhook deliveries">${(data) => html`<${DataTable} id="deliveries" caption=${`Webhook deliveries of ${budget.name}`}
    rows=${data.webhookDeliveries} empty="No delivery yet." columns=${[
      { id: "created", label: "Alert", cell: (d) => when(d.createdAt) },
      { id: "url", label: "To", cell: (d) => d.url },
      { id: "status", label: "Status", cell: (d) => d.status },
      { id: "attempts", label: "Attempts", numeric: true, cell: (d) => d.attemptCount },
      { id: "next", label: "Next attempt", cell: (d) => when(d.nextAttemptAt) },
    ]} />`}<//>`;
}

export function Budgets({ workspace, isAdmin }) {
  const query = useQuery(QUERY, { ws: workspace.slug });
  const pause = useMutation(PAUSE);
  const [editing, setEditing] = useState(null); // "new", a budget, or null
  const [secret, setSecret] = useState(null);
  const [showing, setShowing] = useState(null);
  const saved = (payload) => {
    setEditing(null);
    if (payload) setSecret(payload.webhookSecret);
    query.reload();
  };
  const toggle = async (budget) => {
    if (await pause.run({ id: budget.id, paused: !budget.paused })) query.reload();
  };
  return html`<section aria-label="Budgets">
    <div class="toolbar"><h2>Budgets</h2>
      ${isAdmin && !editing ? html`<button type="button" class="secondary" onClick=${() => setEditing("new")}>New budget</button>` : ""}</div>
    ${editing ? html`<${BudgetForm} key=${editing === "new" ? "new" : editing.id} workspace=${workspace} budget=${editing === "new" ? null : editing}
      onSaved=${saved} onCancel=${() => setEditing(null)} />` : ""}
    ${secret ? html`<div class="panel secret" role="status">Webhook signing secret, shown once: <code data-webhook-secret>${secret}</code>
      <button type="button" class="link" onClick=${() => setSecret(null)}>Done</button></div>` : ""}
    <${ErrorNote} error=${pause.error} />
    <${Loadable} query=${query} what="budgets">${(data) => html`<${DataTable} id="budgets" caption="Budgets in their current period" rows=${data.budgets}
      rowKey=${(b) => b.id} empty="No budget yet." columns=${[
        { id: "name", label: "Budget", cell: (b) => html`${b.name} ${b.paused ? html`<span class="badge">paused</span>` : ""}${b.exceeded ? html` <span class="badge exceeded">exceeded</span>` : ""}` },
        { id: "scope", label: "Counts", cell: (b) => (b.scope === "WORKSPACE" ? "whole workspace" : `${b.scope.toLowerCase()} ${b.scopeTagKey ? `${b.scopeTagKey}=` : ""}${b.scopeValue}`) },
        { id: "period", label: "Period", cell: (b) => html`${b.period.toLowerCase()}<div class="muted">${when(b.periodStart)} →</div>` },
        { id: "spent", label: "Spent", numeric: true, cell: (b) => `${money(b.spentUsd)} of ${money(b.limitUsd)}`, value: (b) => b.spentUsd },
        { id: "percent", label: "Used", cell: (b) => html`<${SpendBar} percent=${b.percentUsed} exceeded=${b.exceeded} />`, value: (b) => b.percentUsed },
        { id: "forecast", label: "Forecast", numeric: true, cell: (b) => money(b.forecastUsd), value: (b) => b.forecastUsd },
        { id: "alerts", label: "Alerts", cell: (b) => (b.alerts.length ? b.alerts.map((a) => `${a.thresholdPercent}%`).join(", ") : "—"), value: (b) => b.alerts.length },
        { id: "actions", label: "", cell: (b) => html`<button type="button" class="link" onClick=${() => setShowing(showing === b.id ? null : b.id)}>Deliveries</button>
            ${isAdmin ? html`<button type="button" class="link" onClick=${() => setEditing(b)} data-edit-budget=${b.id}>Edit</button>
              <button type="button" class="link" onClick=${() => toggle(b)}>${b.paused ? "Resume" : "Pause"}</button>` : ""}` },
      ]} />
      ${showing ? html`<${Deliveries} budget=${data.budgets.find((b) => b.id === showing)} />` : ""}`}<//>
  </section>`;
}
