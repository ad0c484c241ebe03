// Keyset paging: the current page's cursor is in the URL (`after`), the cursors before it in memory.
import { useState } from "preact/hooks";
import { html } from "../lib/html.js";
import { setParams } from "../lib/router.js";

/** { index: pages before this one, next(endCursor), back(), reset() } */
export function usePages(params) {
  const [previous, setPrevious] = useState([]);
  return {
    index: previous.length,
    next(cursor) {
      setPrevious([...previous, params.after || ""]);
      setParams({ after: cursor });
    },
    back() {
      const cursors = [...previous];
      const cursor = cursors.pop() ?? "";
      setPrevious(cursors);
      setParams({ after: cursor });
    },
    reset() {
      setPrevious([]);
    },
  };
}

export function Pager({ pages, params, pageInfo }) {
  return html`<div class="pager">
    <button type="button" class="secondary" disabled=${!params.after} onClick=${pages.back}>Previous page</button>
    <button type="button" class="secondary" disabled=${!pageInfo.hasNextPage} onClick=${() => pages.next(pageInfo.endCursor)}>Next page</button>
  </div>`;
}
