// Users: the top end users of the range, and one user's page (totals, models, latest calls).
import { html } from "../lib/html.js";
import { useQuery } from "../lib/use-query.js";
import { keptParams, timeRange, usageFilter } from "../lib/filters.js";
import { count, money, milliseconds, when } from "../lib/format.js";
import { href } from "../lib/router.js";
import { Loadable } from "../components/states.js";
import { DataTable } from "../components/data-table.js";
import { StatCard } from "../components/stat-card.js";
import { EVENT_FIELDS, eventColumns } from "./events.js";
import { CONVERSATION_FIELDS, ContentNotice, canReadContent, conversationDetail } from "../components/conversation.js";

const TOP = `query TopUsers($filter: UsageFilter!, $by: TopUsersBy!) {
  topUsers(filter: $filter, by: $by, limit: 100) { userId user { displayName email } metrics { calls totalTokens costUsd errorRate avgDurationMs } }
}`;
const one = (content) => `query OneUser($ws: ID!, $id: String!, $from: DateTime, $to: DateTime) {
  user(workspaceId: $ws, userId: $id, from: $from, to: $to, recentEvents: 20) {
    userId firstSeen lastSeen user { displayName email }
    metrics { calls totalTokens costUsd errorRate avgDurationMs p95DurationMs }
    models { dimensions { value } metrics { calls totalTokens costUsd } }
    recentEvents { ${EVENT_FIELDS} ${content ? CONVERSATION_FIELDS : ""} }
  }
}`;

export function Users({ params, workspace }) {
  const by = ["COST", "CALLS", "TOKENS"].includes(params.by) ? params.by : "COST";
  const query = useQuery(TOP, { filter: usageFilter(params, workspace.slug), by });
  const kept = keptParams(params);
  return html`<h1>Users</h1>
    <div class="toolbar"><label>Rank by
      <select name="by" value=${by} onChange=${(e) => (location.hash = href(["users"], { ...kept, by: e.currentTarget.value }))}>
        <option value="COST">cost</option><option value="CALLS">calls</option><option value="TOKENS">tokens</option>
      </select></label></div>
    <${Loadable} query=${query} what="users">${(data) => html`<${DataTable} id="users" caption="Top users" rows=${data.topUsers} rowKey=${(u) => u.userId}
      empty="No calls with a userId in this range." columns=${[
        { id: "user", label: "User", cell: (u) => html`<a href=${href(["users", u.userId], kept)}>${u.userId}</a>` },
        { id: "name", label: "Name", cell: (u) => u.user?.displayName ?? "—" },
        { id: "calls", label: "Calls", numeric: true, cell: (u) => count(u.metrics.calls), value: (u) => u.metrics.calls },
        { id: "tokens", label: "Tokens", numeric: true, cell: (u) => count(u.metrics.totalTokens), value: (u) => u.metrics.totalTokens },
        { id: "cost", label: "Cost", numeric: true, cell: (u) => money(u.metrics.costUsd), value: (u) => u.metrics.costUsd },
        { id: "latency", label: "Avg latency", numeric: true, cell: (u) => milliseconds(u.metrics.avgDurationMs), value: (u) => u.metrics.avgDurationMs },
      ]} />`}<//>`;
}

export function UserPage({ params, workspace, id, scopes }) {
  const { from, to } = timeRange(params);
  const content = canReadContent(scopes); // conversations only for a key holding CONTENT; none asked till known
  const query = useQuery(one(content), { ws: workspace.slug, id, from: from.toISOString(), to: to.toISOString() }, { skip: scopes === null });
  const kept = keptParams(params);
  return html`<p><a href=${href(["users"], kept)}>← Users</a></p>
    <${Loadable} query=${query} what="the user">${({ user: u }) => html`<h1 data-user=${u.userId}>${u.user?.displayName ? `${u.user.displayName} (${u.userId})` : u.userId}</h1>
      <p class="muted">${u.user?.email ?? ""} First seen ${when(u.firstSeen)}, last seen ${when(u.lastSeen)} (in this range).</p>
      <section class="stats">
        <${StatCard} id="calls" label="Calls" text=${count(u.metrics.calls)} value=${u.metrics.calls} />
        <${StatCard} id="tokens" label="Tokens" text=${count(u.metrics.totalTokens)} value=${u.metrics.totalTokens} />
        <${StatCard} id="cost" label="Cost" text=${money(u.metrics.costUsd)} value=${u.metrics.costUsd} />
        <${StatCard} id="p95-latency" label="p95 latency" text=${milliseconds(u.metrics.p95DurationMs)} value=${u.metrics.p95DurationMs} />
      </section>
      <${DataTable} id="user-models" caption="Models" rows=${u.models} columns=${[
        { id: "model", label: "Model", cell: (g) => g.dimensions[0]?.value },
        { id: "calls", label: "Calls", numeric: true, cell: (g) => count(g.metrics.calls), value: (g) => g.metrics.calls },
        { id: "tokens", label: "Tokens", numeric: true, cell: (g) => count(g.metrics.totalTokens), value: (g) => g.metrics.totalTokens },
        { id: "cost", label: "Cost", numeric: true, cell: (g) => money(g.metrics.costUsd), value: (g) => g.metrics.costUsd },
      ]} />
      <h2>Latest calls</h2>
      ${content ? "" : html`<${ContentNotice} />`}
      <${DataTable} id="user-events" caption="Latest calls" rows=${u.recentEvents} rowKey=${(e) => e.id} columns=${eventColumns(kept)}
        detail=${content ? conversationDetail : undefined} />`}<//>`;
}
