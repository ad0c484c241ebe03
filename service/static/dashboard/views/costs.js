// Costs: usage grouped by any one or two dimensions, the models without a price (set one and re-cost),
// and the budgets.
import { useState } from "preact/hooks";
import { html } from "../lib/html.js";
import { useQuery } from "../lib/use-query.js";
import { usageFilter } from "../lib/filters.js";
import { count, money } from "../lib/format.js";
import { setParams } from "../lib/router.js";
import { Loadable } from "../components/states.js";
import { DataTable } from "../components/data-table.js";
import { Unpriced } from "./costs/unpriced.js";
import { Budgets } from "./costs/budgets.js";

export const DIMENSIONS = [
  ["PROVIDER", "Provider"],
  ["MODEL", "Model"],
  ["TASK_TYPE", "Task type"],
  ["USER", "User"],
  ["TAG", "Tag"],
  ["PROVIDER_INSTANCE", "Provider instance"],
  ["STATUS", "Status"],
  ["ERROR_TYPE", "Error type"],
  ["SESSION", "Session"],
];
const LABEL = Object.fromEntries(DIMENSIONS);

const QUERY = `query Costs($filter: UsageFilter!, $groupBy: [UsageDimension!]!, $tagKey: String) {
  usage(filter: $filter, groupBy: $groupBy, limit: 50, tagKey: $tagKey) {
    groups { dimensions { dimension value } metrics { calls totalTokens costUsd unpricedCalls avgCostPerCall } }
    others { calls totalTokens costUsd unpricedCalls avgCostPerCall }
  }
}`;

const metricColumns = [
  { id: "calls", label: "Calls", numeric: true, cell: (m) => count(m.calls), value: (m) => m.calls },
  { id: "tokens", label: "Tokens", numeric: true, cell: (m) => count(m.totalTokens), value: (m) => m.totalTokens },
  { id: "cost", label: "Cost", numeric: true, cell: (m) => money(m.costUsd), value: (m) => m.costUsd },
  { id: "per-call", label: "Per call", numeric: true, cell: (m) => money(m.avgCostPerCall), value: (m) => m.avgCostPerCall },
  { id: "unpriced", label: "Unpriced calls", numeric: true, cell: (m) => count(m.unpricedCalls), value: (m) => m.unpricedCalls },
];

function DimensionSelect({ name, label, value, optional }) {
  return html`<label>${label}
    <select name=${name} value=${value} onChange=${(e) => setParams({ [name]: e.currentTarget.value })}>
      ${optional ? html`<option value="">(none)</option>` : ""}
      ${DIMENSIONS.map(([id, text]) => html`<option value=${id}>${text}</option>`)}
    </select></label>`;
}

function Breakdown({ params, workspace }) {
  const first = LABEL[params.by] ? params.by : "MODEL";
  const second = LABEL[params.then] && params.then !== first ? params.then : "";
  const groupBy = second ? [first, second] : [first];
  const usesTag = groupBy.includes("TAG");
  const tagKey = params.tagKey || "";
  const query = useQuery(QUERY, { filter: usageFilter(params, workspace.slug), groupBy, tagKey: usesTag ? tagKey : null }, { skip: usesTag && !tagKey });
  const columns = [
    ...groupBy.map((d, i) => ({
      id: `dim-${i}`,
      label: d === "TAG" ? `Tag ${tagKey}` : LABEL[d],
      cell: (m) => m.dimensions?.[i]?.value ?? html`<span class="muted">${m.dimensions ? "none" : "all others"}</span>`,
    })),
    ...metricColumns.map((c) => ({ ...c, cell: (row) => c.cell(row.metrics), value: (row) => c.value(row.metrics) })),
  ];
  return html`<section aria-label="Breakdown">
    <form class="toolbar" onSubmit=${(e) => { e.preventDefault(); setParams({ tagKey: e.currentTarget.elements.tagKey.value.trim() }); }}>
      <${DimensionSelect} name="by" label="Group by" value=${first} />
      <${DimensionSelect} name="then" label="then by" value=${second} optional />
      ${usesTag ? html`<label>Tag key <input name="tagKey" value=${tagKey} placeholder="e.g. feature" /></label><button type="submit">Group</button>` : ""}
    </form>
    ${usesTag && !tagKey
      ? html`<p class="state empty">Name the tag to group by.</p>`
      : html`<${Loadable} query=${query} what="the breakdown">${(data) => {
          const { groups, others } = data.usage;
          const footer = others
            ? html`<tr data-others>${columns.map((c) => html`<td class=${c.numeric ? "num" : ""} data-col=${c.id}>${c.cell({ metrics: others })}</td>`)}</tr>`
            : null;
          return html`<${DataTable} id="breakdown" caption=${`Cost by ${groupBy.map((d) => LABEL[d].toLowerCase()).join(" and ")}`} columns=${columns} rows=${groups} footer=${footer} />`;
        }}<//>`}
  </section>`;
}

export function Costs(props) {
  const [generation, setGeneration] = useState(0); // a re-cost changes the breakdown's costs: reload it
  return html`<h1>Costs</h1>
    <${Breakdown} key=${generation} ...${props} />
    <${Unpriced} ...${props} onRecost=${() => setGeneration((g) => g + 1)} />
    <${Budgets} ...${props} />`;
}
