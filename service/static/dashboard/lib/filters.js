// The filter bar's state, read from the URL parameters, as the API's UsageFilter.
export const RANGE_PRESETS = [
  { id: "1h", label: "Last hour", ms: 3600e3 },
  { id: "24h", label: "Last 24 hours", ms: 86400e3 },
  { id: "7d", label: "Last 7 days", ms: 7 * 86400e3 },
  { id: "30d", label: "Last 30 days", ms: 30 * 86400e3 },
  { id: "90d", label: "Last 90 days", ms: 90 * 86400e3 },
];
export const DEFAULT_RANGE = "7d";

/** The URL parameters that filter (every view keeps them when you switch views). */
export const FILTER_PARAMS = ["ws", "range", "from", "to", "provider", "model", "task", "user", "tags"];

export function keptParams(params) {
  return Object.fromEntries(FILTER_PARAMS.filter((k) => params[k]).map((k) => [k, params[k]]));
}

function nextMinute() {
  const now = Date.now();
  return new Date(Math.ceil(now / 60e3) * 60e3);
}

/** [from, to) of the parameters: a custom range, or a preset ending at the next whole minute. */
export function timeRange(params) {
  if (params.from && params.to) {
    return { from: new Date(params.from), to: new Date(params.to), preset: null };
  }
  const preset = RANGE_PRESETS.find((p) => p.id === params.range) ?? RANGE_PRESETS.find((p) => p.id === DEFAULT_RANGE);
  const to = nextMinute();
  return { from: new Date(to.getTime() - preset.ms), to, preset };
}

/** A bucket size that gives a readable number of points (the API allows 2,000). */
export function intervalFor({ from, to }) {
  const span = to - from;
  if (span <= 3 * 3600e3) return "MINUTE";
  if (span <= 3 * 86400e3) return "HOUR";
  if (span <= 400 * 86400e3) return "DAY";
  return "WEEK";
}

/** "team:search,beta" -> [{key: "team", value: "search"}, {key: "beta"}] */
export function parseTags(text) {
  return (text ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf(":");
      return at < 0 ? { key: part } : { key: part.slice(0, at).trim(), value: part.slice(at + 1).trim() };
    });
}

/** The UsageFilter of the URL parameters, for the workspace `workspaceId`. */
export function usageFilter(params, workspaceId, { withTime = true } = {}) {
  const filter = { workspaceId };
  if (withTime) {
    const { from, to } = timeRange(params);
    filter.from = from.toISOString();
    filter.to = to.toISOString();
  }
  if (params.provider) filter.provider = params.provider;
  if (params.model) filter.model = params.model;
  if (params.task) filter.taskType = params.task;
  if (params.user) filter.userId = params.user;
  const tags = parseTags(params.tags);
  if (tags.length) filter.tags = tags;
  return filter;
}
