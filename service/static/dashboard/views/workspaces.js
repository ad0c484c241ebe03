// Workspaces (an instance key sees and creates them) and the workspace's provider instances (ADMIN).
import { useState } from "preact/hooks";
import { html } from "../lib/html.js";
import { useMutation, useQuery } from "../lib/use-query.js";
import { when } from "../lib/format.js";
import { ErrorNote, Loadable } from "../components/states.js";
import { DataTable } from "../components/data-table.js";

const WORKSPACES = "query Workspaces { workspaces { id slug name createdAt } }";
const CREATE_WORKSPACE = "mutation CreateWorkspace($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id slug } }";
const INSTANCES = "query Instances($ws: ID!) { providerInstances(workspaceId: $ws) { id provider name baseUrl notes createdAt } }";
const CREATE_INSTANCE = "mutation CreateInstance($input: CreateProviderInstanceInput!) { createProviderInstance(input: $input) { id } }";

/** A small form of text fields that runs `mutation` with {input: fields} and reports success to onDone. */
function CreateForm({ label, mutation, fields, extra, onDone }) {
  const run = useMutation(mutation);
  const [values, setValues] = useState({});
  const submit = async (event) => {
    event.preventDefault();
    const input = { ...extra };
    for (const f of fields) if ((values[f.name] ?? "").trim()) input[f.name] = values[f.name].trim();
    if (await run.run({ input })) {
      setValues({});
      onDone();
    }
  };
  return html`<form class="inline panel" onSubmit=${submit} aria-label=${label} data-form=${label}>
    ${fields.map((f) => html`<label>${f.label}<input name=${f.name} required=${f.required} value=${values[f.name] ?? ""} placeholder=${f.placeholder ?? ""}
      onInput=${(e) => setValues({ ...values, [f.name]: e.currentTarget.value })} /></label>`)}
    <button type="submit" disabled=${run.running}>${label}</button>
    <${ErrorNote} error=${run.error} />
  </form>`;
}

export function Workspaces({ workspace, instanceWide }) {
  const workspaces = useQuery(WORKSPACES, {});
  const instances = useQuery(INSTANCES, { ws: workspace.slug });
  return html`<h2>Provider instances of ${workspace.name}</h2>
    <p class="muted">Named deployments of a provider (e.g. openai "prod-eu"): events and prices may name one.</p>
    <${CreateForm} label="Add instance" mutation=${CREATE_INSTANCE} extra=${{ workspaceId: workspace.slug }} onDone=${instances.reload} fields=${[
      { name: "provider", label: "Provider", required: true, placeholder: "openai" },
      { name: "name", label: "Name", required: true, placeholder: "prod-eu" },
      { name: "baseUrl", label: "Base URL", placeholder: "https://…" },
      { name: "notes", label: "Notes" },
    ]} />
    <${Loadable} query=${instances} what="provider instances">${(data) => html`<${DataTable} id="instances" caption="Provider instances" rows=${data.providerInstances}
      rowKey=${(i) => i.id} empty="No provider instance." columns=${[
        { id: "provider", label: "Provider", cell: (i) => i.provider },
        { id: "name", label: "Name", cell: (i) => i.name },
        { id: "id", label: "Id", cell: (i) => html`<code>${i.id}</code>` },
        { id: "url", label: "Base URL", cell: (i) => i.baseUrl ?? "—" },
        { id: "created", label: "Created", cell: (i) => when(i.createdAt) },
      ]} />`}<//>
    <h2>Workspaces</h2>
    ${instanceWide
      ? html`<${CreateForm} label="Create workspace" mutation=${CREATE_WORKSPACE} extra=${{}} onDone=${workspaces.reload} fields=${[
          { name: "name", label: "Name", required: true, placeholder: "Acme" },
          { name: "slug", label: "Slug", required: true, placeholder: "acme" },
        ]} />`
      : ""}
    <${Loadable} query=${workspaces} what="workspaces">${(data) => html`<${DataTable} id="workspaces" caption="Workspaces this key sees" rows=${data.workspaces}
      rowKey=${(w) => w.id} columns=${[
        { id: "name", label: "Name", cell: (w) => w.name },
        { id: "slug", label: "Slug", cell: (w) => html`<code>${w.slug}</code>` },
        { id: "created", label: "Created", cell: (w) => when(w.createdAt) },
      ]} />`}<//>`;
}
