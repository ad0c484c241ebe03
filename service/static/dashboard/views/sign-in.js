// Sign in with an API key: checked against the API (workspaces needs READ), then kept in sessionStorage.
import { useState } from "preact/hooks";
import { html } from "../lib/html.js";
import { graphql } from "../lib/api.js";

/** What the person should read for each way the API refuses a key. */
export function refusalMessage(error) {
  if (error.code === "UNAUTHENTICATED") {
    if (/malformed/i.test(error.message)) return "That is not an llm-usage API key: keys start with llmu_.";
    if (/send an API key/i.test(error.message)) return "Paste an API key.";
    if (/revoked/i.test(error.message)) return "This key has been revoked. Ask an admin for a new one.";
    return "This key is unknown: check that it was copied whole, or ask an admin for a new one.";
  }
  if (error.code === "FORBIDDEN") {
    return "This key can only record usage (INGEST). The dashboard needs a key with READ (to look) or ADMIN (to manage).";
  }
  if (error.code === "RATE_LIMITED") return "Too many attempts with this key: wait a moment and try again.";
  return `The service could not check the key: ${error.message}`;
}

export const WORKSPACES = "query SignIn { workspaces { id slug name } }";

export function SignIn({ onSignedIn, notice }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState(notice ?? null);
  const [busy, setBusy] = useState(false);

  const submit = async (event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError("Paste an API key.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { workspaces } = await graphql(WORKSPACES, {}, { key: trimmed });
      onSignedIn(trimmed, workspaces);
    } catch (refused) {
      setError(refusalMessage(refused));
      setBusy(false);
    }
  };

  return html`<main class="sign-in" id="main" data-view="sign-in">
    <form onSubmit=${submit} aria-describedby="sign-in-help">
      <h1>llm-usage</h1>
      <p id="sign-in-help">Sign in with an API key: a READ key shows usage, an ADMIN key also manages keys, prices and budgets.
        The key stays in this browser tab only and is forgotten when you close it.</p>
      <label for="api-key">API key</label>
      <input id="api-key" name="apiKey" type="password" autocomplete="off" spellcheck="false" placeholder="llmu_…"
        value=${key} onInput=${(e) => setKey(e.currentTarget.value)} autofocus />
      ${error ? html`<p class="state error" role="alert" data-sign-in-error>${error}</p>` : ""}
      <button type="submit" disabled=${busy}>${busy ? "Checking…" : "Sign in"}</button>
    </form>
  </main>`;
}
