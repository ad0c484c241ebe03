// Hash routing: "#/events?ws=acme&range=7d&model=gpt-4o". The view and every filter live in the URL, so
// a link or a reload reproduces the view; the server only ever serves "/".
import { useEffect, useState } from "preact/hooks";

export function parseLocation(hash = location.hash) {
  const text = hash.replace(/^#/, "") || "/overview";
  const [pathPart, queryPart = ""] = text.split("?", 2);
  const segments = pathPart.split("/").filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(queryPart));
  return { segments, params };
}

export function href(segments, params = {}) {
  const path = "/" + segments.map(encodeURIComponent).join("/");
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

export function navigate(segments, params = {}, { replace = false } = {}) {
  const target = href(segments, params);
  if (target === location.hash) return;
  if (replace) {
    history.replaceState(null, "", target);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = target;
  }
}

/** Changes some parameters of the current view (undefined or "" removes one). */
export function setParams(patch, options) {
  const { segments, params } = parseLocation();
  navigate(segments, { ...params, ...patch }, options);
}

export function useLocation() {
  const [state, setState] = useState(parseLocation);
  useEffect(() => {
    const update = () => setState(parseLocation());
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return state;
}
