// A budget's spend as a bar (percent of its limit, capped at the bar's end) with the figure beside it.
import { html } from "../lib/html.js";

export function SpendBar({ percent, exceeded }) {
  const width = Math.max(0, Math.min(100, Number(percent)));
  return html`<span class="spend"><span class=${`bar ${exceeded ? "over" : ""}`} role="meter" aria-valuemin="0" aria-valuemax="100"
      aria-valuenow=${width} aria-label="Spent, percent of the limit"><span style=${`width:${width}%`}></span></span>
    ${percent}%</span>`;
}
