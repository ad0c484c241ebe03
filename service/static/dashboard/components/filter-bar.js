// The filter bar: workspace, time range (presets or custom, in the browser's time zone), provider, model,
// task type, user and tags. It writes the URL; the views read their filter from it.
import { useEffect, useState } from "preact/hooks";
import { html } from "../lib/html.js";
import { RANGE_PRESETS, DEFAULT_RANGE, timeRange, usageFilter } from "../lib/filters.js";
import { setParams } from "../lib/router.js";
import { timeZone } from "../lib/format.js";
import { useQuery } from "../lib/use-query.js";

const OPTIONS = `query FilterOptions($filter: UsageFilter!) {
  usageAnalytics(filter: $filter) { byProvider { key } byModel { key } byTaskType { key } }
  topUsers(filter: $filter, by: CALLS, limit: 100) { userId }
}`;

const TEXT_FIELDS = [
  { param: "provider", label: "Provider", list: "byProvider" },
  { param: "model", label: "Model", list: "byModel" },
  { param: "task", label: "Task type", list: "byTaskType" },
  { param: "user", label: "User", list: "users" },
];

/** "2026-11-20T10:00" in the browser's zone, for datetime-local inputs. */
function localInput(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60e3);
  return shifted.toISOString().slice(0, 16);
}

export function FilterBar({ params, workspace, workspaces }) {
  const range = timeRange(params);
  const custom = Boolean(params.from && params.to);
  const [draft, setDraft] = useState(params);
  useEffect(() => setDraft(params), [JSON.stringify(params)]);
  // Suggestions are asked for once a text field is focused: page loads do not wait for them.
  const [suggest, setSuggest] = useState(false);
  const options = useQuery(OPTIONS, { filter: usageFilter({ ...params, provider: "", model: "", task: "", user: "", tags: "" }, workspace.slug) }, { skip: !suggest });
  const lists = options.data
    ? {
        byProvider: options.data.usageAnalytics.byProvider.map((g) => g.key),
        byModel: options.data.usageAnalytics.byModel.map((g) => g.key),
        byTaskType: options.data.usageAnalytics.byTaskType.map((g) => g.key),
        users: options.data.topUsers.map((u) => u.userId),
      }
    : {};

  const apply = (event) => {
    event.preventDefault();
    const patch = { after: "" };
    for (const { param } of TEXT_FIELDS) patch[param] = (draft[param] ?? "").trim();
    patch.tags = (draft.tags ?? "").trim();
    if (draft.range === "custom" && draft.fromLocal && draft.toLocal) {
      patch.from = new Date(draft.fromLocal).toISOString();
      patch.to = new Date(draft.toLocal).toISOString();
      patch.range = "custom";
    }
    setParams(patch);
  };
  const choosePreset = (value) => {
    if (value === "custom") {
      setDraft({ ...draft, range: "custom", fromLocal: localInput(range.from), toLocal: localInput(range.to) });
      return;
    }
    setParams({ range: value, from: "", to: "", after: "" });
  };
  const rangeValue = draft.range === "custom" || custom ? "custom" : params.range || DEFAULT_RANGE;

  return html`<form class="filters" onSubmit=${apply} aria-label="Filters" data-filter-bar>
    ${workspaces.length > 1
      ? html`<label>Workspace
          <select name="ws" value=${workspace.slug} onChange=${(e) => setParams({ ws: e.currentTarget.value, after: "" })}>
            ${workspaces.map((w) => html`<option value=${w.slug}>${w.name}</option>`)}
          </select></label>`
      : ""}
    <label>Time range
      <select name="range" value=${rangeValue} onChange=${(e) => choosePreset(e.currentTarget.value)}>
        ${RANGE_PRESETS.map((p) => html`<option value=${p.id}>${p.label}</option>`)}
        <option value="custom">Custom…</option>
      </select></label>
    ${rangeValue === "custom"
      ? html`<label>From <input type="datetime-local" name="from" value=${draft.fromLocal ?? localInput(range.from)}
            onInput=${(e) => setDraft({ ...draft, fromLocal: e.currentTarget.value })} /></label>
          <label>To <input type="datetime-local" name="to" value=${draft.toLocal ?? localInput(range.to)}
            onInput=${(e) => setDraft({ ...draft, toLocal: e.currentTarget.value })} /></label>`
      : ""}
    ${TEXT_FIELDS.map(
      (f) => html`<label>${f.label}
        <input name=${f.param} list=${`options-${f.param}`} value=${draft[f.param] ?? ""} placeholder="any" autocomplete="off" onFocus=${() => setSuggest(true)}
          onInput=${(e) => setDraft({ ...draft, [f.param]: e.currentTarget.value })} />
        <datalist id=${`options-${f.param}`}>${(lists[f.list] ?? []).filter((v) => v !== null).map((v) => html`<option value=${v} />`)}</datalist>
      </label>`,
    )}
    <label>Tags <input name="tags" value=${draft.tags ?? ""} placeholder="key:value, key" autocomplete="off"
      onInput=${(e) => setDraft({ ...draft, tags: e.currentTarget.value })} /></label>
    <button type="submit">Apply</button>
    <span class="range-note muted" data-range-from=${range.from.toISOString()} data-range-to=${range.to.toISOString()}>
      ${range.from.toLocaleString()} → ${range.to.toLocaleString()} (${timeZone})
    </span>
  </form>`;
}
