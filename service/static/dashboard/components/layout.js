// The page frame: a skip link, the header, the navigation (links keep the filters), and the main area.
import { html } from "../lib/html.js";
import { href } from "../lib/router.js";
import { keptParams } from "../lib/filters.js";

export const NAV = [
  { id: "overview", label: "Overview" },
  { id: "events", label: "Events" },
  { id: "live", label: "Live" },
  { id: "costs", label: "Costs" },
  { id: "performance", label: "Performance" },
  { id: "users", label: "Users" },
  { id: "sessions", label: "Sessions" },
  { id: "keys", label: "Keys", admin: true },
];

export function Layout({ current, params, workspace, isAdmin, onSignOut, children }) {
  const kept = keptParams(params);
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href=${href(["overview"], kept)}>llm-usage</a>
      <span class="workspace" data-workspace=${workspace.slug}>${workspace.name}</span>
      <span class="grow"></span>
      <span class="muted role" data-role=${isAdmin ? "admin" : "read"}>${isAdmin ? "ADMIN" : "READ"} key</span>
      <a class="muted" href="/graphql">GraphiQL</a>
      <button type="button" class="link" onClick=${onSignOut}>Sign out</button>
    </header>
    <nav class="side" aria-label="Views">
      ${NAV.filter((n) => !n.admin || isAdmin).map(
        (n) => html`<a href=${href([n.id], kept)} data-nav=${n.id} aria-current=${n.id === current ? "page" : undefined}>${n.label}</a>`,
      )}
    </nav>
    <main id="main" tabindex="-1" data-view=${current}>${children}</main>`;
}
