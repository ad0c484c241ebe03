// Keys (ADMIN): the workspace's keys (and, for an instance key, the instance-wide ones), a new key shown
// once with set-up snippets, and revocation; then the workspaces and provider instances.
import { useState } from "preact/hooks";
import { html } from "../lib/html.js";
import { useMutation, useQuery } from "../lib/use-query.js";
import { when } from "../lib/format.js";
import { ErrorNote, Loadable } from "../components/states.js";
import { DataTable } from "../components/data-table.js";
import { Workspaces } from "./workspaces.js";

const KEYS = `query Keys($ws: ID) { apiKeys(workspaceId: $ws) { id name prefix scopes createdAt lastUsedAt revokedAt workspaceId } }`;
const CREATE = `mutation CreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name prefix scopes } } }`;
const REVOKE = `mutation RevokeKey($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`;
const SCOPES = ["INGEST", "READ", "ADMIN", "CONTENT"];
const SCOPE_HINTS = { CONTENT: "reads what calls said; never implied by ADMIN" };

function snippets(secret, workspace) {
  const origin = location.origin;
  return {
    python: `# pip install ./client   (the llm-usage-client package of this repository)
from llm_usage_client import UsageTracker

tracker = UsageTracker("${origin}", api_key="${secret}", workspace_id="${workspace.slug}")
tracker.track(provider="openai", model="gpt-4o-mini", prompt_tokens=1000, completion_tokens=100)`,
    proxy: `# or, without a tracking call: send the OpenAI SDK's calls through the proxy (your OpenAI key as before)
from openai import OpenAI

client = OpenAI(base_url="${origin}/proxy/openai/v1", default_headers={"X-LLM-Usage-Key": "${secret}"})`,
    curl: `curl -s ${origin}/graphql -H 'Authorization: Bearer ${secret}' -H 'Content-Type: application/json' \\
  -d '{"query":"mutation { trackUsage(input: {workspaceId: \\"${workspace.slug}\\", provider: \\"openai\\", model: \\"gpt-4o-mini\\", promptTokens: 1000, completionTokens: 100}) { event { costUsd } } }"}'`,
  };
}

function CopyButton({ text, label }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return html`<button type="button" class="secondary" onClick=${copy}>${copied ? "Copied" : label}</button>`;
}

function NewKey({ created, workspace, onDone }) {
  const code = snippets(created.secret, workspace);
  return html`<section class="panel" role="status" aria-label="The new key" data-new-key=${created.apiKey.id}>
    <strong>Key “${created.apiKey.name}” (${created.apiKey.scopes.join(", ")}). It is shown this once only: copy it now.</strong>
    <div class="secret"><code data-secret>${created.secret}</code><${CopyButton} text=${created.secret} label="Copy key" /></div>
    <h2>Python client</h2><pre data-snippet="python">${code.python}</pre><${CopyButton} text=${code.python} label="Copy" />
    <h2>Through the proxy</h2><pre data-snippet="proxy">${code.proxy}</pre><${CopyButton} text=${code.proxy} label="Copy" />
    <h2>curl</h2><pre data-snippet="curl">${code.curl}</pre><${CopyButton} text=${code.curl} label="Copy" />
    <p><button type="button" onClick=${onDone}>I have stored it</button></p>
  </section>`;
}

function CreateKey({ workspace, onCreated }) {
  const mutation = useMutation(CREATE);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState(["INGEST"]);
  const toggle = (scope) => setScopes(scopes.includes(scope) ? scopes.filter((s) => s !== scope) : [...scopes, scope]);
  const submit = async (event) => {
    event.preventDefault();
    const data = await mutation.run({ input: { name: name.trim(), scopes, workspaceId: workspace.slug } });
    if (data) {
      setName("");
      onCreated(data.createApiKey);
    }
  };
  return html`<form class="panel" onSubmit=${submit} aria-label="New key" data-key-form>
    <label>Name <input name="name" required value=${name} onInput=${(e) => setName(e.currentTarget.value)} placeholder="chat-backend" /></label>
    <fieldset class="inline"><legend>Scopes</legend>
      ${SCOPES.map((s) => html`<label class="check" title=${SCOPE_HINTS[s] ?? ""}><input type="checkbox" name="scopes" value=${s} checked=${scopes.includes(s)} onChange=${() => toggle(s)} />${s}</label>`)}
    </fieldset>
    <p class="muted" data-scope-hint="CONTENT">CONTENT ${SCOPE_HINTS.CONTENT} (only a key holding CONTENT can give it).</p>
    <button type="submit" disabled=${mutation.running || !scopes.length}>Create key in ${workspace.name}</button>
    <${ErrorNote} error=${mutation.error} />
  </form>`;
}

function KeyList({ id, caption, ws }) {
  const query = useQuery(KEYS, { ws });
  const revoke = useMutation(REVOKE);
  const [confirming, setConfirming] = useState(null);
  const doRevoke = async (key) => {
    setConfirming(null);
    if (await revoke.run({ id: key.id })) query.reload();
  };
  const action = (k) => {
    if (k.revokedAt) return html`<span class="badge">revoked ${when(k.revokedAt)}</span>`;
    if (confirming === k.id) {
      return html`<button type="button" class="danger" onClick=${() => doRevoke(k)} data-confirm-revoke=${k.id}>Revoke ${k.prefix}… now</button>
        <button type="button" class="link" onClick=${() => setConfirming(null)}>Cancel</button>`;
    }
    return html`<button type="button" class="secondary" onClick=${() => setConfirming(k.id)} data-revoke=${k.id}>Revoke</button>`;
  };
  return html`<${ErrorNote} error=${revoke.error} />
    <${Loadable} query=${query} what="keys">${(data) => html`<${DataTable} id=${id} caption=${caption} rows=${data.apiKeys} rowKey=${(k) => k.id}
      empty="No key." columns=${[
        { id: "name", label: "Name", cell: (k) => k.name },
        { id: "prefix", label: "Key", cell: (k) => html`<code>${k.prefix}…</code>` },
        { id: "scopes", label: "Scopes", cell: (k) => k.scopes.join(", ") },
        { id: "created", label: "Created", cell: (k) => when(k.createdAt) },
        { id: "used", label: "Last used", cell: (k) => when(k.lastUsedAt) },
        { id: "state", label: "", cell: action, value: (k) => (k.revokedAt ? "revoked" : "active") },
      ]} />`}<//>`;
}

export function Keys({ workspace }) {
  const [created, setCreated] = useState(null);
  const [generation, setGeneration] = useState(0);
  const instance = useQuery(KEYS, { ws: null });
  return html`<h1>Keys, workspaces and provider instances</h1>
    <p class="muted">A key is shown once, when it is made; only its prefix is kept on view. Revoking stops it at once, everywhere.</p>
    ${created
      ? html`<${NewKey} created=${created} workspace=${workspace} onDone=${() => setCreated(null)} />`
      : html`<${CreateKey} workspace=${workspace} onCreated=${(c) => { setCreated(c); setGeneration((g) => g + 1); }} />`}
    <${KeyList} id="keys" caption=${`Keys of ${workspace.name}`} ws=${workspace.slug} key=${`ws-${generation}`} />
    ${instance.data ? html`<h2>Instance-wide keys</h2><${KeyList} id="instance-keys" caption="Instance-wide keys (every workspace)" ws=${null} key=${`instance-${generation}`} />` : ""}
    <${Workspaces} workspace=${workspace} instanceWide=${Boolean(instance.data)} />`;
}
