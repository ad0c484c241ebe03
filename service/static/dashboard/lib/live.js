// A minimal graphql-transport-ws client (the protocol the service speaks on /graphql): one socket per key,
// subscriptions multiplexed on it, re-subscribed after a reconnect. The key goes in connection_init.
import { storedKey } from "./session.js";

const PROTOCOL = "graphql-transport-ws";
const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4406]); // bad message, unauthorised, forbidden, subprotocol

class LiveConnection {
  constructor(key) {
    this.key = key;
    this.socket = null;
    this.acknowledged = false;
    this.subscriptions = new Map(); // id -> {query, variables, sink}
    this.statusListeners = new Set();
    this.status = "idle";
    this.nextId = 1;
    this.retryDelay = 500;
    this.retryTimer = null;
  }

  setStatus(status, reason = "") {
    this.status = status;
    this.statusListeners.forEach((listener) => listener(status, reason));
  }

  onStatus(listener) {
    this.statusListeners.add(listener);
    listener(this.status, "");
    return () => this.statusListeners.delete(listener);
  }

  open() {
    if (this.socket) return;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
    const socket = new WebSocket(url, PROTOCOL);
    this.socket = socket;
    this.acknowledged = false;
    this.setStatus("connecting");
    socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${this.key}` } }));
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    socket.onclose = (event) => this.closed(socket, event);
  }

  receive(message) {
    const sink = this.subscriptions.get(message.id)?.sink;
    switch (message.type) {
      case "connection_ack":
        this.acknowledged = true;
        this.retryDelay = 500;
        this.setStatus("open");
        for (const id of this.subscriptions.keys()) this.sendSubscribe(id);
        break;
      case "ping":
        this.socket.send(JSON.stringify({ type: "pong" }));
        break;
      case "next":
        if (message.payload.errors?.length) sink?.error(message.payload.errors[0]);
        else sink?.next(message.payload.data);
        break;
      case "error":
        sink?.error(message.payload[0] ?? { message: "subscription refused" });
        this.subscriptions.delete(message.id);
        break;
      case "complete":
        this.subscriptions.delete(message.id);
        break;
    }
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.acknowledged = false;
    if (FINAL_CLOSE_CODES.has(event.code)) {
      this.setStatus("refused", event.reason || `closed with ${event.code}`);
      return;
    }
    if (this.subscriptions.size === 0) {
      this.setStatus("idle");
      return;
    }
    this.setStatus("reconnecting", event.reason);
    this.retryTimer = setTimeout(() => this.open(), this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, 10_000);
  }

  sendSubscribe(id) {
    const { query, variables } = this.subscriptions.get(id);
    this.socket.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables } }));
  }

  subscribe(query, variables, sink) {
    const id = String(this.nextId++);
    this.subscriptions.set(id, { query, variables, sink });
    if (this.acknowledged) this.sendSubscribe(id);
    else this.open();
    return () => {
      if (!this.subscriptions.delete(id)) return;
      if (this.acknowledged) this.socket.send(JSON.stringify({ id, type: "complete" }));
      if (this.subscriptions.size === 0) this.close();
    };
  }

  close() {
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "done");
    this.setStatus("idle");
  }
}

let connection = null;

/** The live connection for the signed-in key (a new one after signing in with another key). */
export function live() {
  const key = storedKey();
  if (!connection || connection.key !== key) {
    connection?.close();
    connection = new LiveConnection(key);
  }
  return connection;
}

export function closeLive() {
  connection?.close();
  connection = null;
}
