// Tracked GitHub accounts: add, remove, and an account's daily statistics over a range.

import * as api from "./api.js";
import { h, clear, busy, load, table, field, number, card, pageHeader, notify } from "./ui.js";
import { defaultRange } from "./repositories.js";

export function accountsPage(el) {
  const id = location.hash.replace(/^#\/accounts\/?/, "");
  if (/^\d+$/.test(id)) return accountPage(el, id);
  const list = h("div", { id: "accounts" });
  const errors = h("div");
  const login = h("input", { name: "login", placeholder: "octocat", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9-]{0,38}", autocomplete: "off", spellcheck: "false" });
  const add = h("button", { type: "submit", id: "add-account" }, "Track");
  const form = h("form", { class: "inline-form" }, field("GitHub user or organization", login), add);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await busy(add, () => api.put("/v1/users", { login: login.value.trim() }), errors);
    if (done) {
      notify(`Tracking ${done.login} (${done.repositories} repositories).`);
      login.value = "";
      refresh();
    }
  });
  const refresh = () =>
    load(list, async () => {
      const accounts = await api.get("/v1/users");
      return table(
        [
          ["Login", (a) => h("a", { href: `#/accounts/${a.id}` }, a.login)],
          ["Name", (a) => a.name || "—"],
          ["GitHub id", (a) => a.id],
          [
            "",
            (a) =>
              h(
                "button",
                {
                  type: "button",
                  class: "danger small",
                  "aria-label": `Stop tracking ${a.login}`,
                  onclick: async (event) => {
                    if (!confirm(`Stop tracking ${a.login}?`)) return;
                    if (await busy(event.currentTarget, () => api.del(`/v1/users/${a.id}`))) refresh();
                  },
                },
                "Remove",
              ),
          ],
        ],
        accounts,
        { caption: "Tracked accounts", empty: "You track no account yet." },
      );
    });
  clear(
    el,
    pageHeader("Accounts", "GitHub users and organizations whose repositories' stars, forks and watchers are recorded every day."),
    card("Track an account", form, errors),
    card("Tracked accounts", list),
  );
  refresh();
}

function accountPage(el, id) {
  const range = defaultRange(90);
  const from = h("input", { type: "date", name: "date_from", value: range.from });
  const to = h("input", { type: "date", name: "date_to", value: range.to });
  const title = h("h1", {}, "Account");
  const body = h("div", { id: "account-stats" });
  const controls = h("form", { class: "controls" }, field("From", from), field("To", to), h("button", { type: "submit", class: "secondary" }, "Update"));
  const refresh = () =>
    load(body, async () => {
      const answer = await api.get(`/v1/users/${id}/stats`, { date_from: from.value, date_to: to.value });
      title.textContent = answer.user.name ? `${answer.user.login} · ${answer.user.name}` : answer.user.login;
      const rows = [...answer.stats].sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : a.repo_id - b.repo_id));
      return [
        totalsChart(answer.stats, answer.user.login),
        table(
          [
            ["Date", (r) => r.date],
            ["Repository id", (r) => r.repo_id],
            ["Stars", (r) => number(r.stargazers)],
            ["Forks", (r) => number(r.forks)],
            ["Watchers", (r) => number(r.watchers)],
            ["Source", (r) => r.source],
          ],
          rows,
          { caption: "Daily statistics", empty: "No daily statistics in this range yet." },
        ),
      ];
    });
  controls.addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  clear(el, h("p", {}, h("a", { href: "#/accounts" }, "← All accounts")), h("div", { class: "page-header" }, title), card("Daily statistics", controls, body));
  refresh();
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/** The account's stars summed over its repositories, per day: a small line chart. */
function totalsChart(stats, login) {
  const totals = new Map();
  for (const s of stats) totals.set(s.date, (totals.get(s.date) || 0) + s.stargazers);
  const days = [...totals.keys()].sort();
  if (days.length < 2) return h("p", { class: "muted" }, "The chart needs at least two days of statistics.");
  const values = days.map((d) => totals.get(d));
  const [w, ht, pad] = [640, 200, 36];
  const min = Math.min(...values);
  const max = Math.max(...values);
  const x = (i) => pad + (i * (w - 2 * pad)) / (days.length - 1);
  const y = (v) => ht - pad + 8 - ((v - min) * (ht - 2 * pad)) / (max - min || 1);
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const label = `Stars of ${login}'s repositories per day, from ${number(values[0])} on ${days[0]} to ${number(values.at(-1))} on ${days.at(-1)}`;
  return h(
    "figure",
    { class: "chart" },
    svg(
      "svg",
      { viewBox: `0 0 ${w} ${ht}`, role: "img", "aria-label": label, class: "mini-chart" },
      svg("title", {}, label),
      svg("line", { x1: pad, x2: w - pad, y1: ht - pad + 8, y2: ht - pad + 8, class: "axis" }),
      svg("polyline", { points, class: "line" }),
      svg("text", { x: pad, y: ht - 6, class: "tick" }, days[0]),
      svg("text", { x: w - pad, y: ht - 6, class: "tick end" }, days.at(-1)),
      svg("text", { x: pad, y: 18, class: "tick" }, `${number(max)} stars`),
      svg("text", { x: w - pad, y: ht - pad, class: "tick end" }, `${number(min)} at the start`),
    ),
    h("figcaption", { class: "muted" }, "Stars summed over the account's repositories."),
  );
}
