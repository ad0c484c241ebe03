// Sessions: the sessions of the range with their averages, and one session's timeline (complete it there).
import { html } from "../lib/html.js";
import { useMutation, useQuery } from "../lib/use-query.js";
import { keptParams, usageFilter } from "../lib/filters.js";
import { count, milliseconds, money, when } from "../lib/format.js";
import { href } from "../lib/router.js";
import { ErrorNote, Loadable } from "../components/states.js";
import { DataTable } from "../components/data-table.js";
import { Pager, usePages } from "../components/pager.js";
import { StatCard } from "../components/stat-card.js";
import { EVENT_FIELDS, eventColumns } from "./events.js";
import { CONVERSATION_FIELDS, ContentNotice, canReadContent, conversationDetail } from "../components/conversation.js";

const SUMMARY = "id status calls errorCount totalTokens costUsd userIds firstEventAt lastEventAt durationMs completedAt";
const LIST = `query Sessions($filter: UsageFilter!, $after: String) {
  sessionStats(filter: $filter) { sessions avgCalls avgDurationMs avgCostUsd }
  sessions(filter: $filter, first: 25, after: $after) { edges { node { ${SUMMARY} } } pageInfo { hasNextPage endCursor } }
}`;
const one = (content) =>
  `query OneSession($ws: ID!, $id: String!) { session(workspaceId: $ws, id: $id) { ${SUMMARY} events { ${EVENT_FIELDS} ${content ? CONVERSATION_FIELDS : ""} } } }`;
const COMPLETE = `mutation Complete($ws: ID!, $id: String!) { completeSession(workspaceId: $ws, id: $id) { status completedAt } }`;

const statusBadge = (s) => html`<span class=${`badge ${s.status === "COMPLETED" ? "ok" : ""}`}>${s.status.toLowerCase()}</span>`;

export function Sessions({ params, workspace }) {
  const pages = usePages(params);
  const query = useQuery(LIST, { filter: usageFilter(params, workspace.slug), after: params.after || null });
  const kept = keptParams(params);
  return html`<h1>Sessions</h1>
    <${Loadable} query=${query} what="sessions">${(data) => {
      const stats = data.sessionStats;
      const page = data.sessions;
      return html`<section class="stats">
          <${StatCard} id="sessions" label="Sessions" text=${count(stats.sessions)} value=${stats.sessions} />
          <${StatCard} id="avg-calls" label="Calls per session" text=${stats.avgCalls === null ? "—" : stats.avgCalls.toFixed(1)} value=${stats.avgCalls} />
          <${StatCard} id="avg-duration" label="Average duration" text=${milliseconds(stats.avgDurationMs)} value=${stats.avgDurationMs} />
          <${StatCard} id="avg-cost" label="Average cost" text=${money(stats.avgCostUsd)} value=${stats.avgCostUsd} />
        </section>
        <${DataTable} id="sessions" caption="Sessions, latest activity first" rows=${page.edges.map((e) => e.node)} rowKey=${(s) => s.id}
          empty="No event with a sessionId in this range." columns=${[
            { id: "id", label: "Session", cell: (s) => html`<a href=${href(["sessions", s.id], kept)}>${s.id}</a>` },
            { id: "status", label: "Status", cell: statusBadge },
            { id: "users", label: "Users", cell: (s) => s.userIds.join(", ") || "—" },
            { id: "calls", label: "Calls", numeric: true, cell: (s) => count(s.calls), value: (s) => s.calls },
            { id: "errors", label: "Errors", numeric: true, cell: (s) => count(s.errorCount), value: (s) => s.errorCount },
            { id: "tokens", label: "Tokens", numeric: true, cell: (s) => count(s.totalTokens), value: (s) => s.totalTokens },
            { id: "cost", label: "Cost", numeric: true, cell: (s) => money(s.costUsd), value: (s) => s.costUsd },
            { id: "duration", label: "Duration", numeric: true, cell: (s) => milliseconds(s.durationMs), value: (s) => s.durationMs },
            { id: "last", label: "Last event", cell: (s) => when(s.lastEventAt) },
          ]} />
        <${Pager} pages=${pages} params=${params} pageInfo=${page.pageInfo} />`;
    }}<//>`;
}

export function SessionPage({ params, workspace, id, scopes }) {
  // The conversations are asked only of a key holding CONTENT; until its scopes are known, nothing is asked.
  const content = canReadContent(scopes);
  const query = useQuery(one(content), { ws: workspace.slug, id }, { skip: scopes === null });
  const complete = useMutation(COMPLETE);
  const kept = keptParams(params);
  const finish = async () => {
    if (await complete.run({ ws: workspace.slug, id })) query.reload();
  };
  return html`<p><a href=${href(["sessions"], kept)}>← Sessions</a></p>
    <${Loadable} query=${query} what="the session">${({ session: s }) => html`<h1 data-session=${s.id}>Session ${s.id} ${statusBadge(s)}</h1>
      <p class="muted">${when(s.firstEventAt)} → ${when(s.lastEventAt)}${s.completedAt ? `, completed ${when(s.completedAt)}` : ""}. Users: ${s.userIds.join(", ") || "—"}.</p>
      ${s.status === "OPEN" ? html`<p><button type="button" onClick=${finish} disabled=${complete.running} data-complete-session>Mark completed</button></p>` : ""}
      <${ErrorNote} error=${complete.error} />
      <section class="stats">
        <${StatCard} id="calls" label="Calls" text=${count(s.calls)} value=${s.calls} />
        <${StatCard} id="tokens" label="Tokens" text=${count(s.totalTokens)} value=${s.totalTokens} />
        <${StatCard} id="cost" label="Cost" text=${money(s.costUsd)} value=${s.costUsd} />
        <${StatCard} id="duration" label="Duration" text=${milliseconds(s.durationMs)} value=${s.durationMs} />
      </section>
      <h2>Timeline</h2>
      ${content ? "" : html`<${ContentNotice} />`}
      <${DataTable} id="session-events" caption=${content ? "Its calls in time order, each with what it said" : "Its calls in time order"} rows=${s.events}
        rowKey=${(e) => e.id} columns=${eventColumns(kept)} detail=${content ? conversationDetail : undefined} />`}<//>`;
}
