// One headline figure with its change against the previous period of the same length.
import { html } from "../lib/html.js";
import { change } from "../lib/format.js";

/** `worseWhenUp`: for costs, latency and errors a rise is shown as bad. */
export function StatCard({ id, label, text, value, delta, hadPrevious, worseWhenUp = false, title }) {
  const direction = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
  const tone = direction === "flat" ? "" : (direction === "up") === worseWhenUp ? "bad" : "good";
  const showDelta = delta !== undefined;
  return html`<div class="stat" data-stat=${id} data-value=${value ?? ""}>
    <div class="stat-label">${label}</div>
    <div class="stat-value" title=${title ?? text}>${text}</div>
    ${showDelta
      ? html`<div class=${`stat-change ${tone}`} data-change=${delta ?? ""}>${change(delta, hadPrevious)} <span class="muted">vs previous</span></div>`
      : ""}
  </div>`;
}
