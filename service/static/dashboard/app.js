// The app: signed out, the sign-in; signed in, the frame with the filter bar and the view of the URL.
import { useEffect, useState } from "preact/hooks";
import { html } from "./lib/html.js";
import { graphql, onUnauthenticated } from "./lib/api.js";
import { closeLive } from "./lib/live.js";
import { forgetKey, storedKey, storeKey } from "./lib/session.js";
import { setParams, useLocation } from "./lib/router.js";
import { Layout } from "./components/layout.js";
import { FilterBar } from "./components/filter-bar.js";
import { ErrorNote, Loading } from "./components/states.js";
import { SignIn, WORKSPACES, refusalMessage } from "./views/sign-in.js";
import { Overview } from "./views/overview.js";
import { Events } from "./views/events.js";
import { Live } from "./views/live.js";
import { Costs } from "./views/costs.js";
import { Performance } from "./views/performance.js";
import { Users, UserPage } from "./views/users.js";
import { Sessions, SessionPage } from "./views/sessions.js";
import { Keys } from "./views/keys.js";

const VIEWER = "query Viewer { viewer { scopes } }";

function route(segments, isAdmin) {
  const [view = "overview", id] = segments;
  switch (view) {
    case "events": return { view, Component: Events };
    case "live": return { view, Component: Live };
    case "costs": return { view, Component: Costs };
    case "performance": return { view, Component: Performance };
    case "users": return id ? { view, Component: UserPage, id } : { view, Component: Users };
    case "sessions": return id ? { view, Component: SessionPage, id } : { view, Component: Sessions };
    case "keys": return isAdmin ? { view, Component: Keys } : { view: "overview", Component: Overview };
    default: return { view: "overview", Component: Overview };
  }
}

export function App() {
  const [session, setSession] = useState(null); // {workspaces, isAdmin, scopes}
  const [notice, setNotice] = useState(null);
  const [failure, setFailure] = useState(null);
  const { segments, params } = useLocation();

  const signOut = (message = null) => {
    forgetKey();
    closeLive();
    setSession(null);
    setNotice(message);
  };

  useEffect(() => onUnauthenticated((error) => signOut(refusalMessage(error))), []);

  useEffect(() => {
    if (!storedKey() || session) return;
    graphql(WORKSPACES).then(
      ({ workspaces }) => setSession({ workspaces, isAdmin: null, scopes: null }),
      (error) => (error.code === "UNAUTHENTICATED" || error.code === "FORBIDDEN" ? signOut(refusalMessage(error)) : setFailure(error)),
    );
  }, [session]);

  const workspace = session?.workspaces.find((w) => w.slug === params.ws || w.id === params.ws) ?? session?.workspaces[0];

  useEffect(() => {
    if (!workspace) return;
    // The key says what it may do: ADMIN manages (a workspace key only its own workspace, the one it sees).
    // Signed out while it was asked (s is null then): nothing to update, or a session without workspaces is made.
    graphql(VIEWER).then(
      ({ viewer }) => setSession((s) => s && { ...s, isAdmin: viewer.scopes.includes("ADMIN"), scopes: viewer.scopes }),
      () => setSession((s) => s && { ...s, isAdmin: false, scopes: [] }),
    );
  }, [workspace?.slug]);

  useEffect(() => {
    if (workspace && params.ws !== workspace.slug) setParams({ ws: workspace.slug }, { replace: true });
  }, [workspace?.slug, params.ws]);

  if (!storedKey()) {
    return html`<${SignIn} notice=${notice} onSignedIn=${(key, workspaces) => {
      storeKey(key);
      setNotice(null);
      setSession({ workspaces, isAdmin: null, scopes: null });
    }} />`;
  }
  if (failure) return html`<main id="main" class="solo"><${ErrorNote} error=${failure} retry=${() => { setFailure(null); setSession(null); }} /></main>`;
  if (!session) return html`<main id="main" class="solo"><${Loading} what="your workspaces" /></main>`;
  if (!workspace) return html`<main id="main" class="solo"><p class="state empty">This key sees no workspace yet. Create one in GraphiQL (createWorkspace).</p></main>`;

  // Until the probe answers, the key counts as READ (the Keys view waits for it).
  const isAdmin = session.isAdmin === true;
  if (segments[0] === "keys" && session.isAdmin === null) return html`<main id="main" class="solo"><${Loading} what="your key's rights" /></main>`;
  const { view, Component, id } = route(segments, isAdmin);
  return html`<${Layout} current=${view} params=${params} workspace=${workspace} isAdmin=${isAdmin} onSignOut=${() => signOut()}>
    <${FilterBar} params=${params} workspace=${workspace} workspaces=${session.workspaces} />
    <${Component} key=${view} params=${params} workspace=${workspace} isAdmin=${isAdmin} scopes=${session.scopes} id=${id} />
  <//>`;
}
