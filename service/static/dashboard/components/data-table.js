// A table of rows: columns say how each cell reads and, for numbers, its exact value (data-value).
import { html } from "../lib/html.js";
import { Empty } from "./states.js";

/**
 * columns: [{ id, label, cell(row) -> text|vnode, value?(row) -> exact value, numeric? }]
 * detail?(row) -> vnode: a full-width row below each row (e.g. a call's conversation).
 */
export function DataTable({ id, caption, columns, rows, empty = "Nothing in this range.", rowKey = (_, i) => i, footer, detail }) {
  if (!rows.length && !footer) return html`<${Empty}>${empty}<//>`;
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption}>
    <table data-table=${id} data-rows=${rows.length}>
      <caption>${caption}</caption>
      <thead>
        <tr>${columns.map((c) => html`<th scope="col" class=${c.numeric ? "num" : ""}>${c.label}</th>`)}</tr>
      </thead>
      <tbody>
        ${rows.map(
          (row, i) => {
            const line = html`<tr key=${rowKey(row, i)} data-row=${i}>
              ${columns.map(
                (c) => html`<td class=${c.numeric ? "num" : ""} data-col=${c.id} data-value=${c.value ? c.value(row) ?? "" : undefined}>
                  ${c.cell(row)}
                </td>`,
              )}
            </tr>`;
            if (!detail) return line;
            return [line, html`<tr key=${`${rowKey(row, i)}-detail`} class="detail" data-detail=${i}><td colspan=${columns.length}>${detail(row)}</td></tr>`];
          },
        )}
      </tbody>
      ${footer ? html`<tfoot>${footer}</tfoot>` : ""}
    </table>
  </div>`;
}
