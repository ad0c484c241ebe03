// Loading, empty and error states, the same everywhere.
import { html } from "../lib/html.js";

export function Loading({ what = "data" }) {
  return html`<p class="state loading" role="status" aria-live="polite">Loading ${what}…</p>`;
}

export function Empty({ children }) {
  return html`<p class="state empty" data-state="empty">${children}</p>`;
}

const HINTS = {
  FORBIDDEN: "This key may not see this. An ADMIN key of the workspace can.",
  RATE_LIMITED: "Too many requests for this key: wait a moment and retry.",
  UNAVAILABLE: "The service or its database is not answering: retry in a moment.",
};

export function ErrorNote({ error, retry }) {
  if (!error) return null;
  const hint = HINTS[error.code];
  return html`<div class="state error" role="alert" data-state="error" data-code=${error.code}>
    <strong>${error.code ?? "Error"}</strong>: ${error.message}${error.field ? html` (field <code>${error.field}</code>)` : ""}
    ${hint ? html`<div class="hint">${hint}</div>` : ""}
    ${retry ? html`<button type="button" class="link" onClick=${retry}>Retry</button>` : ""}
  </div>`;
}

/** The query's error, its first load, or the content (stale content stays visible while reloading). */
export function Loadable({ query, what, children }) {
  if (query.error) return html`<${ErrorNote} error=${query.error} retry=${query.reload} />`;
  if (!query.data) return html`<${Loading} what=${what} />`;
  return html`<div class=${query.loading ? "reloading" : ""} aria-busy=${query.loading ? "true" : "false"}>${children(query.data)}</div>`;
}
