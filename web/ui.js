// Small DOM helpers. Text always goes in as text nodes (never as HTML), so data from the
// API cannot inject markup.

import { imageUrl } from "./api.js";

/** h("button", {class: "x", onclick: f}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let noticeTimer;
/** A short message at the top of the page; errors stay until dismissed or replaced. */
export function notify(message, kind = "ok") {
  const box = document.getElementById("notice");
  clearTimeout(noticeTimer);
  clear(
    box,
    h("span", {}, message),
    h("button", { type: "button", class: "ghost small", "aria-label": "Dismiss", onclick: () => (box.hidden = true) }, "×"),
  );
  box.className = `notice ${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.hidden = false;
  if (kind !== "error") noticeTimer = setTimeout(() => (box.hidden = true), 5000);
}

/** Hides the page notice (on moving to another section). */
export function dismissNotice() {
  clearTimeout(noticeTimer);
  document.getElementById("notice").hidden = true;
}

/** An inline error under a form or panel: the API's message. */
export function errorBox(message) {
  return h("p", { class: "error", role: "alert" }, message);
}

/**
 * Runs `work` while `button` shows a loading state; an ApiError's message lands in
 * `errorTarget` (an element whose content is replaced) or in the page notice.
 */
export async function busy(button, work, errorTarget) {
  const label = button ? button.textContent : "";
  if (button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.classList.add("loading");
  }
  if (errorTarget) clear(errorTarget);
  try {
    return await work();
  } catch (e) {
    const message = e && e.message ? e.message : String(e);
    if (errorTarget) clear(errorTarget, errorBox(message));
    else notify(message, "error");
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.classList.remove("loading");
      button.textContent = label;
    }
  }
}

/** A placeholder shown while a panel loads. */
export function loading(text = "Loading…") {
  return h("p", { class: "loading-line", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

/** Fills `el` with a loading line, then with what `render` answers, or the API's error. */
export async function load(el, render) {
  clear(el, loading());
  try {
    clear(el, await render());
  } catch (e) {
    clear(el, errorBox(e.message || String(e)));
  }
}

/** A table; `columns` are [heading, row => cell content] pairs. */
export function table(columns, rows, { caption, empty = "Nothing here yet." } = {}) {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption || "table" },
    h(
      "table",
      {},
      caption ? h("caption", { class: "visually-hidden" }, caption) : null,
      h("thead", {}, h("tr", {}, columns.map(([heading]) => h("th", { scope: "col" }, heading)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row)))))),
    ),
  );
}

export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    hint ? h("small", { class: "muted" }, hint) : null,
  );
}

/** A button that copies `text` and says so. */
export function copyButton(text, label = "Copy") {
  const button = h("button", { type: "button", class: "ghost small", "data-copy": "" }, label);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch (_) {
      // No clipboard permission (plain http on another host): select the text instead.
      const code = button.previousElementSibling;
      if (code) getSelection().selectAllChildren(code);
      button.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(() => (button.textContent = label), 2000);
  });
  return button;
}

/** A value shown once, with a copy button. */
export function secret(text, label) {
  return h("div", { class: "secret" }, h("code", { "aria-label": label }, text), copyButton(text));
}

export function when(value) {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function number(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString();
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}` }, text);
}

/** A chart (SVG from the API, fetched with the token) as an image with its alt text. */
export function chart(path, query, alt) {
  const box = h("figure", { class: "chart" }, loading("Drawing the chart…"));
  imageUrl(path, query).then(
    (src) => {
      const img = h("img", { src, alt, class: "chart-img" });
      img.addEventListener("load", () => URL.revokeObjectURL(src), { once: true });
      clear(box, img);
    },
    (e) => clear(box, errorBox(e.message)),
  );
  return box;
}

export function card(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}

export function pageHeader(title, intro) {
  return h("div", { class: "page-header" }, h("h1", {}, title), intro ? h("p", { class: "muted" }, intro) : null);
}
