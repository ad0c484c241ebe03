// The dashboard's only way to the service: GraphQL over fetch (same origin), with the signed-in key.
import { storedKey } from "./session.js";

export class ApiError extends Error {
  constructor(message, code, extensions = {}) {
    super(message);
    this.code = code;
    this.field = extensions.field;
    this.extensions = extensions;
  }
}

const unauthenticatedListeners = new Set();

/** Called with the error whenever the stored key is refused (revoked meanwhile): the app signs out. */
export function onUnauthenticated(listener) {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

function authorization(key) {
  return { Authorization: `Bearer ${key}` };
}

function firstError(body, status) {
  const error = body?.errors?.[0];
  if (error) return new ApiError(error.message, error.extensions?.code ?? "ERROR", error.extensions ?? {});
  return new ApiError(`the service answered ${status}`, "UNAVAILABLE");
}

/** Runs one operation; resolves to its `data`, rejects with an ApiError carrying the API's code. */
export async function graphql(query, variables = {}, { key = storedKey() } = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...authorization(key) },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError("the service cannot be reached", "UNAVAILABLE");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`the service answered ${response.status} without JSON`, "UNAVAILABLE");
  }
  if (body.errors?.length) {
    const error = firstError(body, response.status);
    if (error.code === "UNAUTHENTICATED" && key === storedKey()) unauthenticatedListeners.forEach((l) => l(error));
    throw error;
  }
  return body.data;
}

/** Downloads an export of `filter` (the export route, with the same key) as a file named by the service. */
export async function downloadExport(filter, format) {
  const { exportUrl } = await graphql(
    "query ExportUrl($filter: UsageFilter!, $format: ExportFormat!) { exportUrl(filter: $filter, format: $format) }",
    { filter, format },
  );
  const response = await fetch(exportUrl, { headers: authorization(storedKey()) });
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      /* not JSON: the status says enough */
    }
    throw firstError(body, response.status);
  }
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? `usage.${format.toLowerCase()}`;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
