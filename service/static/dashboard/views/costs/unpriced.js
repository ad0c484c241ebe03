// Models stored without a price, and (ADMIN) a form to price one and re-cost its stored events.
import { useState } from "preact/hooks";
import { html } from "../../lib/html.js";
import { useMutation, useQuery } from "../../lib/use-query.js";
import { usageFilter } from "../../lib/filters.js";
import { count, money, when } from "../../lib/format.js";
import { ErrorNote, Loadable } from "../../components/states.js";
import { DataTable } from "../../components/data-table.js";

const QUERY = `query Unpriced($filter: UsageFilter!) { unpricedModels(filter: $filter) { provider model calls firstSeen lastSeen } }`;
const SET_PRICE = `mutation SetPrice($input: SetModelPriceInput!, $recost: UsageFilter!) {
  setModelPrice(input: $input) { id }
  recostUsage(filter: $recost) { examined changed costBeforeUsd costAfterUsd }
}`;

function PriceForm({ workspace, model, onDone }) {
  const mutation = useMutation(SET_PRICE);
  const [fields, setFields] = useState({ input: "", output: "", cached: "", from: "" });
  const set = (name) => (e) => setFields({ ...fields, [name]: e.currentTarget.value });
  const submit = async (event) => {
    event.preventDefault();
    const input = {
      workspaceId: workspace.slug,
      provider: model.provider,
      model: model.model,
      inputPerMillion: fields.input.trim(),
      outputPerMillion: fields.output.trim(),
    };
    if (fields.cached.trim()) input.cachedInputPerMillion = fields.cached.trim();
    if (fields.from) input.effectiveFrom = new Date(fields.from).toISOString();
    const recost = { workspaceId: workspace.slug, provider: model.provider, model: model.model };
    const data = await mutation.run({ input, recost });
    if (data) onDone(data.recostUsage);
  };
  return html`<form class="panel" onSubmit=${submit} aria-label=${`Price ${model.provider} ${model.model}`} data-price-form=${model.model}>
    <strong>Price ${model.provider} / ${model.model}</strong> <span class="muted">USD per million tokens</span>
    <label>Input <input name="inputPerMillion" inputmode="decimal" required value=${fields.input} onInput=${set("input")} placeholder="2.50" /></label>
    <label>Output <input name="outputPerMillion" inputmode="decimal" required value=${fields.output} onInput=${set("output")} placeholder="10" /></label>
    <label>Cached input <input name="cachedInputPerMillion" inputmode="decimal" value=${fields.cached} onInput=${set("cached")} placeholder="same as input" /></label>
    <label>From <input name="effectiveFrom" type="datetime-local" value=${fields.from} onInput=${set("from")} /></label>
    <button type="submit" disabled=${mutation.running}>${mutation.running ? "Saving…" : "Set price and re-cost"}</button>
    <${ErrorNote} error=${mutation.error} />
  </form>`;
}

export function Unpriced({ params, workspace, isAdmin, onRecost }) {
  const query = useQuery(QUERY, { filter: usageFilter(params, workspace.slug) });
  const [pricing, setPricing] = useState(null);
  const [result, setResult] = useState(null);
  const done = (recost) => {
    setResult({ ...recost, model: pricing });
    setPricing(null);
    query.reload();
    onRecost();
  };
  return html`<section aria-label="Unpriced models">
    <h2>Models without a price</h2>
    ${result
      ? html`<p class="state" role="status" data-recost=${result.changed}>${result.model.provider}/${result.model.model} priced: ${count(result.examined)} events examined,
          ${count(result.changed)} re-costed, ${money(result.costBeforeUsd)} → ${money(result.costAfterUsd)}.</p>`
      : ""}
    ${pricing ? html`<${PriceForm} workspace=${workspace} model=${pricing} onDone=${done} />` : ""}
    <${Loadable} query=${query} what="unpriced models">${(data) => html`<${DataTable} id="unpriced" caption="Stored without a price (cost counted as 0)"
      rows=${data.unpricedModels} empty="Every call in this range has a price."
      columns=${[
        { id: "provider", label: "Provider", cell: (m) => m.provider },
        { id: "model", label: "Model", cell: (m) => m.model },
        { id: "calls", label: "Calls", numeric: true, cell: (m) => count(m.calls), value: (m) => m.calls },
        { id: "first", label: "First seen", cell: (m) => when(m.firstSeen) },
        { id: "last", label: "Last seen", cell: (m) => when(m.lastSeen) },
        ...(isAdmin ? [{ id: "price", label: "", cell: (m) => html`<button type="button" class="secondary" onClick=${() => setPricing(m)}>Set price</button>` }] : []),
      ]} />`}<//>
  </section>`;
}
