// Workspaces (an instance key sees and creates them), the workspace's content setting and its provider
// instances (ADMIN).
import { useState } from "preact/hooks";
import { html } from "../lib/html.js";
import { useMutation, useQuery } from "../lib/use-query.js";
import { count, when } from "../lib/format.js";
import { ErrorNote, Loadable } from "../components/states.js";
import { DataTable } from "../components/data-table.js";

const WORKSPACES = "query Workspaces { workspaces { id slug name createdAt } }";
const CREATE_WORKSPACE = "mutation CreateWorkspace($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { id slug } }";
const INSTANCES = "query Instances($ws: ID!) { providerInstances(workspaceId: $ws) { id provider name baseUrl notes createdAt } }";
const CREATE_INSTANCE = "mutation CreateInstance($input: CreateProviderInstanceInput!) { createProviderInstance(input: $input) { id } }";

const SETTINGS = "workspaceId enabled retentionDays redaction redactionPatterns defaultPatterns droppedCalls updatedAt";
const CONTENT_SETTINGS = `query ContentSettings($ws: ID!) { contentSettings(workspaceId: $ws) { ${SETTINGS} } }`;
const SET_CONTENT_SETTINGS = `mutation SetContentSettings($input: SetContentSettingsInput!) { setContentSettings(input: $input) { ${SETTINGS} } }`;

/** The API's BAD_USER_INPUT problems, one a line, by field; any other error as usual. */
function Problems({ error }) {
  if (!error) return null;
  const problems = error.code === "BAD_USER_INPUT" ? error.extensions.problems ?? [] : [];
  if (!problems.length) return html`<${ErrorNote} error=${error} />`;
  return html`<ul class="problems" role="alert" data-problems>
    ${problems.map((p) => html`<li data-problem=${p.field}><code>${p.field}</code>: ${p.reason}</li>`)}
  </ul>`;
}

function ContentForm({ settings, workspace, onSaved }) {
  const save = useMutation(SET_CONTENT_SETTINGS);
  const [enabled, setEnabled] = useState(settings.enabled);
  const [retention, setRetention] = useState(String(settings.retentionDays));
  const [redaction, setRedaction] = useState(settings.redaction);
  const [patterns, setPatterns] = useState(settings.redactionPatterns.join("\n"));
  const submit = async (event) => {
    event.preventDefault();
    const input = {
      workspaceId: workspace.slug,
      enabled,
      redaction,
      redactionPatterns: patterns.split("\n").map((p) => p.trim()).filter(Boolean),
    };
    if (retention.trim()) input.retentionDays = Number(retention.trim());
    if (await save.run({ input })) onSaved();
  };
  return html`<form class="inline" onSubmit=${submit} aria-label="Content setting" data-content-form>
    <label class="check"><input type="checkbox" name="enabled" checked=${enabled} onChange=${(e) => setEnabled(e.currentTarget.checked)} />Keep content</label>
    <label>Retention (days)<input type="number" name="retentionDays" step="1" value=${retention} onInput=${(e) => setRetention(e.currentTarget.value)} /></label>
    <label class="check"><input type="checkbox" name="redaction" checked=${redaction} onChange=${(e) => setRedaction(e.currentTarget.checked)} />Redact</label>
    <label>Own patterns (RE2, one a line)<textarea name="redactionPatterns" rows="3" value=${patterns} onInput=${(e) => setPatterns(e.currentTarget.value)}
      placeholder="ORD-[0-9]+"></textarea></label>
    <button type="submit" disabled=${save.running}>Save content setting</button>
    <${Problems} error=${save.error} />
  </form>`;
}

/** Whether the workspace keeps what its calls said, and the form to change it (ADMIN). */
export function ContentSettings({ workspace }) {
  const query = useQuery(CONTENT_SETTINGS, { ws: workspace.slug });
  const [saved, setSaved] = useState(0);
  return html`<section class="panel settings" aria-label="Conversation content" data-content-settings=${workspace.slug}>
    <h2>Conversation content of ${workspace.name}</h2>
    <p class="muted">Off by default: content sent while off is dropped and counted. Reading it needs a key with CONTENT.</p>
    <${Loadable} query=${query} what="the content setting">${({ contentSettings: c }) => html`<dl>
        <dt>Kept</dt><dd data-setting="enabled" data-value=${String(c.enabled)}>${c.enabled ? "on" : "off"}</dd>
        <dt>Retention</dt><dd data-setting="retentionDays" data-value=${c.retentionDays}>${count(c.retentionDays)} days</dd>
        <dt>Redaction</dt><dd data-setting="redaction" data-value=${String(c.redaction)}>${c.redaction
          ? `on: the default patterns${c.redactionPatterns.length ? ` and ${c.redactionPatterns.length} of its own` : ""}`
          : "off"}</dd>
        <dt>Dropped calls</dt><dd data-setting="droppedCalls" data-value=${c.droppedCalls}>${count(c.droppedCalls)}</dd>
        <dt>Changed</dt><dd data-setting="updatedAt">${c.updatedAt ? when(c.updatedAt) : "never"}</dd>
      </dl>
      ${saved ? html`<p class="muted" role="status" data-content-saved=${saved}>Saved.</p>` : ""}
      <${ContentForm} key=${c.updatedAt ?? "never"} settings=${c} workspace=${workspace}
        onSaved=${() => { setSaved((n) => n + 1); query.reload(); }} />`}<//>
  </section>`;
}

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
  return html`<${ContentSettings} workspace=${workspace} />
    <h2>Provider instances of ${workspace.name}</h2>
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
