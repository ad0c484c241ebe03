// What one call said (its stored conversation), as text only: it is customer-written, never markup.
// Asked only with a key holding CONTENT (the field is FORBIDDEN to any other key, ADMIN included).
import { html } from "../lib/html.js";
import { count } from "../lib/format.js";

/** The selection of UsageEvent.conversation, to add to an event query when the key holds CONTENT. */
export const CONVERSATION_FIELDS = `conversation {
  messages { role side text toolCalls { id name arguments } toolCallId omittedParts }
  truncated omittedMessages redactions originalBytes storedBytes storedAt
}`;

export const NEEDS_CONTENT = "Conversation content needs a key with the CONTENT scope";

/** Whether the signed-in key may read content (scopes: the viewer's, null while unknown). */
export const canReadContent = (scopes) => Boolean(scopes?.includes("CONTENT"));

/** The single notice shown instead of conversations to a key without CONTENT. */
export function ContentNotice() {
  return html`<p class="state empty" data-content-notice>${NEEDS_CONTENT} (ask an admin holding it for such a key).</p>`;
}

/** Tool arguments as sent, indented when they are JSON. */
function prettyArguments(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function ToolCall({ call }) {
  return html`<div class="tool-call" data-tool-call=${call.name}>
    <span class="tool-name">→ ${call.name}</span>${call.id ? html` <code class="muted">${call.id}</code>` : ""}
    <pre data-tool-arguments>${prettyArguments(call.arguments)}</pre>
  </div>`;
}

function Message({ message, index }) {
  const side = message.side.toLowerCase();
  return html`<li class=${`message ${side}`} data-message=${index} data-role=${message.role} data-side=${message.side}>
    <div class="message-head"><span class="role">${message.role}</span> <span class="side">${side}</span>
      ${message.toolCallId ? html` <span class="muted">answers <code>${message.toolCallId}</code></span>` : ""}</div>
    ${message.text ? html`<div class="message-text" data-text>${message.text}</div>` : ""}
    ${message.toolCalls.map((call) => html`<${ToolCall} call=${call} />`)}
    ${message.omittedParts.length
      ? html`<p class="muted omitted" data-omitted-parts>Not kept: ${message.omittedParts.join(", ")}.</p>`
      : ""}
  </li>`;
}

/** One call's conversation, or the line saying none is kept (none sent, content off, or past retention). */
export function Conversation({ conversation, id }) {
  if (!conversation) return html`<p class="muted no-content" data-no-content=${id}>No content kept for this call.</p>`;
  const c = conversation;
  const notes = [];
  if (c.truncated) notes.push(html`<span class="badge" data-truncated>truncated</span>`);
  if (c.omittedMessages) notes.push(html`<span class="badge" data-omitted-messages=${c.omittedMessages}>${count(c.omittedMessages)} messages omitted</span>`);
  if (c.redactions) {
    notes.push(html`<span class="badge" data-redactions=${c.redactions}>${count(c.redactions)} redaction${c.redactions === 1 ? "" : "s"}</span>`);
  }
  return html`<div class="conversation" data-conversation=${id}>
    <ol class="messages">${c.messages.map((m, i) => html`<${Message} message=${m} index=${i} />`)}</ol>
    ${c.messages.length ? "" : html`<p class="muted">No message.</p>`}
    ${notes.length ? html`<p class="conversation-notes">${notes}</p>` : ""}
  </div>`;
}

/** For DataTable's `detail`: each event's conversation below its row (only when content is read). */
export const conversationDetail = (event) => html`<${Conversation} conversation=${event.conversation} id=${event.id} />`;
