// Entry point: mounts the app into #app.
import { render } from "preact";
import { html } from "./lib/html.js";
import { App } from "./app.js";

const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
