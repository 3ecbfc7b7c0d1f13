// Sync health: is every sync of the caller keeping up (`/sync/health`: each item ok, stale
// or failing), and the GitHub budget of the polling tokens (`/github/budget`).

import * as api from "./api.js";
import { h, clear, busy, load, table, when, number, badge, card, pageHeader } from "./ui.js";

const KINDS = [
  ["repositories", "Tracked repositories", "Event polls of the repositories you track.", "No tracked repository."],
  ["accounts", "Tracked accounts", "The daily statistics scan of the accounts you track.", "No tracked account."],
  ["integration", "GitHub integration", "The sync of your GitHub data (“Sign in with GitHub”).", "GitHub is not connected."],
  ["pull_repositories", "Pull repositories", "Repositories of your projects that gitpulse pulls itself.", "No pull repository."],
  ["backups", "Backups", "Backup registrations; they run on pushes, so they are never stale.", "No backup registration."],
];

const SUMMARY = {
  ok: "Every sync is keeping up.",
  stale: "Some syncs have not succeeded for more than twice their interval.",
  failing: "Some syncs are failing: their last attempt went wrong.",
};

/** The status as a word with a colour and a symbol, never the colour alone. */
export function statusBadge(status) {
  const kind = { ok: "good", stale: "warn", failing: "bad" }[status] || "";
  const symbol = { ok: "✓", stale: "!", failing: "✕" }[status] || "?";
  return h("span", { class: `badge status ${kind}`, "data-status": status }, h("span", { "aria-hidden": "true" }, symbol), ` ${status}`);
}

export function healthPage(el) {
  const summary = h("div", { id: "health-status" });
  const kinds = h("div", { id: "health-kinds" });
  const budget = h("div", { id: "github-budget" });
  const refreshButton = h("button", { type: "button", class: "secondary", id: "refresh-health" }, "Refresh");
  const refresh = () =>
    Promise.all([load(kinds, () => renderHealth(summary)), load(budget, renderBudget)]);
  refreshButton.addEventListener("click", () => busy(refreshButton, refresh));
  clear(
    el,
    pageHeader(
      "Sync health",
      "Whether every sync that keeps your data fresh is keeping up: an item is stale when its last success is older than twice its interval, failing when its last attempt failed.",
    ),
    h("section", { class: "card" }, h("div", { class: "health-head" }, summary, refreshButton), kinds),
    card("GitHub budget", h("p", { class: "muted" }, "The quota of each polling token (GITHUB_TOKENS), its requests in the last hour and a forecast at that rate."), budget),
  );
  refresh();
}

async function renderHealth(summary) {
  clear(summary);
  const health = await api.get("/sync/health");
  clear(
    summary,
    h("h2", {}, "Overall ", statusBadge(health.status)),
    h("p", { class: "muted" }, SUMMARY[health.status] || "", " Checked ", when(health.checked_at), "."),
  );
  // A section the token may not read is null (the integration also when not connected).
  return KINDS.filter(([key]) => health[key] !== null || key === "integration").map(([key, title, intro, empty]) => {
    const value = health[key];
    const items = value === null || value === undefined ? [] : Array.isArray(value) ? value : [value];
    const id = `health-${key.replace("_", "-")}`;
    if (!items.length) {
      return h("section", { class: "health-kind", id }, h("h3", {}, title, " ", h("span", { class: "muted health-empty" }, `· ${empty}`)));
    }
    return h(
      "section",
      { class: "health-kind", id },
      h("h3", {}, title),
      h("p", { class: "muted small-print" }, intro),
      itemsTable(key, title, items, empty),
    );
  });
}

function itemsTable(key, title, items, empty) {
  const columns = [
    ["Name", (i) => i.name],
    ["Status", (i) => statusBadge(i.status)],
    ["Last success", (i) => when(i.last_success)],
    ["Last error", (i) => (i.last_error ? h("span", { class: "error-text" }, i.last_error) : "—")],
    ["Next run", (i) => (i.next_run ? when(i.next_run) : key === "backups" ? "on push" : "—")],
  ];
  if (key === "repositories") columns.push(["Event gaps", (i) => number(i.event_gaps)]);
  if (key === "integration") columns.splice(2, 0, ["State", (i) => i.state ?? "—"]);
  return table(columns, items, { caption: title, empty });
}

async function renderBudget() {
  const b = await api.get("/github/budget");
  return [
    table(
      [
        ["Token", (t) => h("span", {}, `#${t.index} `, h("code", {}, t.fingerprint))],
        ["Remaining", remaining],
        ["Resets", (t) => (t.cooling_down_until ? h("span", {}, when(t.reset_at), " ", badge(`cooling down until ${when(t.cooling_down_until)}`, "warn")) : when(t.reset_at))],
        ["200", (t) => number(t.requests_last_hour["200"])],
        ["304", (t) => number(t.requests_last_hour["304"])],
        ["4xx", (t) => number(t.requests_last_hour["4xx"])],
        ["5xx", (t) => number(t.requests_last_hour["5xx"])],
        ["Total", (t) => number(t.requests_last_hour.total)],
        ["Runs out", (t) => (t.forecast.runs_out_at ? badge(when(t.forecast.runs_out_at), "bad") : "after the reset")],
        ["More repos", (t) => number(t.forecast.more_repositories)],
      ],
      b.tokens,
      { caption: "GitHub budget per polling token", empty: "No polling token." },
    ),
    h(
      "p",
      { class: "muted small-print" },
      `Forecast at the last hour's rate, polling every ${number(b.poll_interval_secs)} s, at most ${number(b.max_requests_per_minute)} requests a minute per token. 200, 304, 4xx, 5xx, total: the last hour's answers by outcome (a 304 costs no quota); more repos: how many more repositories the token could keep fresh. Checked ${when(b.checked_at)}.`,
    ),
  ];
}

function remaining(t) {
  if (t.remaining === null || t.limit === null) return h("span", { class: "muted" }, "not known yet");
  return `${number(t.remaining)} / ${number(t.limit)}`;
}
