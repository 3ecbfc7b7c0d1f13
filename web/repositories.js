// Tracked repositories: add, remove, sync state; one repository's event statistics,
// star chart, events chart and daily history.

import * as api from "./api.js";
import { h, clear, busy, load, table, field, when, number, badge, chart, card, pageHeader, errorBox, notify } from "./ui.js";

export function repositoriesPage(el) {
  const rest = location.hash.replace(/^#\/repositories\/?/, "");
  const [owner, name] = rest.split("/").map(decodeURIComponent);
  if (owner && name) return repositoryPage(el, owner, name);
  return listPage(el);
}

function listPage(el) {
  const list = h("div", { id: "repositories" });
  const errors = h("div");
  const input = h("input", {
    name: "repository",
    placeholder: "owner/name",
    required: true,
    pattern: "[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+",
    title: "owner/name, e.g. acme/widgets",
    autocomplete: "off",
    spellcheck: "false",
  });
  const add = h("button", { type: "submit", id: "add-repository" }, "Track");
  const form = h("form", { class: "inline-form" }, field("Repository", input, "A public repository on GitHub, as owner/name."), add);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [owner, name] = input.value.trim().split("/");
    if (!owner || !name) {
      clear(errors, errorBox("Enter the repository as owner/name."));
      return;
    }
    const done = await busy(add, () => api.post("/repositories", { owner, name }), errors);
    if (done) {
      notify(done.message || `Tracking ${owner}/${name}.`);
      input.value = "";
      refresh();
    }
  });
  const refresh = () => load(list, renderList);
  clear(
    el,
    pageHeader("Repositories", "Repositories you track: their recent GitHub events are polled, and their stars, forks and watchers recorded every day."),
    card("Track a repository", form, errors),
    card("Tracked repositories", list),
  );
  refresh();

  async function renderList() {
    const { repositories } = await api.get("/repositories");
    return table(
      [
        ["Repository", (r) => h("a", { href: `#/repositories/${encodeURIComponent(r.owner)}/${encodeURIComponent(r.name)}` }, r.full_name)],
        ["Sync", syncState],
        ["Events", (r) => number(r.events_stored)],
        ["Star history", (r) => starHistory(r.star_history)],
        ["Added", (r) => when(r.added_at)],
        [
          "",
          (r) =>
            h(
              "button",
              {
                type: "button",
                class: "danger small",
                "aria-label": `Stop tracking ${r.full_name}`,
                onclick: (event) => remove(event.currentTarget, r),
              },
              "Remove",
            ),
        ],
      ],
      repositories,
      { caption: "Tracked repositories", empty: "You track no repository yet: add one above, e.g. acme/widgets." },
    );
  }

  async function remove(button, r) {
    if (!confirm(`Stop tracking ${r.full_name}?`)) return;
    const done = await busy(button, () => api.del(`/repositories/${encodeURIComponent(r.owner)}/${encodeURIComponent(r.name)}`));
    if (done) {
      notify(done.message || `Stopped tracking ${r.full_name}.`);
      refresh();
    }
  }
}

function syncState(r) {
  if (r.unavailable) return badge("not found on GitHub", "bad");
  if (r.last_error) return h("span", {}, badge("error", "bad"), " ", h("small", {}, r.last_error));
  if (!r.last_synchronized) return badge("waiting for first poll", "warn");
  return h("span", { title: `Polled every ${r.poll_interval_secs} s` }, badge("synced", "good"), " ", h("small", { class: "muted" }, when(r.last_synchronized)));
}

function starHistory(s) {
  if (!s) return "—";
  const text = s.since ? `${s.state}, since ${s.since}` : s.state;
  return h("small", {}, text);
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function defaultRange(days = 365) {
  const to = new Date();
  const from = new Date(to.getTime() - days * 86400000);
  return { from: isoDay(from), to: isoDay(to) };
}

/** A chart's size for its box: as wide as the box (within what the API draws), 9:4. */
export function size(box) {
  const width = Math.max(320, Math.min(1200, Math.round(box.clientWidth || 800)));
  return { width, height: Math.max(240, Math.round(width * 0.45)) };
}

export function theme() {
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function repositoryPage(el, owner, name) {
  const full = `${owner}/${name}`;
  const path = `${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
  const stats = h("div", { id: "statistics" });
  const starChart = h("div", { id: "star-chart" });
  const eventsChart = h("div", { id: "events-chart" });
  const history = h("div", { id: "history" });
  const range = defaultRange();
  const from = h("input", { type: "date", name: "from", value: range.from });
  const to = h("input", { type: "date", name: "to", value: range.to });
  const metric = h("select", { name: "metric" }, ["stars", "forks", "watchers"].map((m) => h("option", { value: m }, m)));
  const scale = h("select", { name: "scale" }, ["linear", "log"].map((s) => h("option", { value: s }, s)));
  const controls = h(
    "form",
    { class: "controls" },
    field("From", from),
    field("To", to),
    field("Metric", metric),
    field("Scale", scale),
    h("button", { type: "submit", class: "secondary" }, "Update"),
  );
  const redraw = () => {
    clear(
      starChart,
      chart(
        "/charts/stars.svg",
        { repos: full, metric: metric.value, scale: scale.value, from: from.value, to: to.value, theme: theme(), ...size(starChart) },
        `Daily ${metric.value} of ${full} from ${from.value} to ${to.value}`,
      ),
    );
    load(history, renderHistory);
  };
  controls.addEventListener("submit", (event) => {
    event.preventDefault();
    redraw();
  });
  clear(
    el,
    h("p", {}, h("a", { href: "#/repositories" }, "← All repositories")),
    pageHeader(full, null),
    card("Star history", controls, starChart),
    card("Event statistics", stats),
    card("Events in the last 30 days", eventsChart),
    card("Daily history", history),
  );
  load(stats, renderStats);
  redraw();
  clear(
    eventsChart,
    chart(
      "/charts/events.svg",
      { repo: full, days: 30, theme: theme(), ...size(eventsChart) },
      `Events per day by type in ${full} over the last 30 days`,
    ),
  );

  async function renderStats() {
    const answer = await api.get("/repository/stats", { owner, name });
    const rows = Object.entries(answer.statistics || {}).map(([type, s]) => ({ type, ...s }));
    rows.sort((a, b) => b.count - a.count);
    return [
      h(
        "p",
        { class: "muted" },
        `Last synchronized ${when(answer.last_synchronized)}.`,
        answer.complete ? "" : " Some events were lost between two polls (GitHub shows only the last 300).",
      ),
      table(
        [
          ["Event type", (r) => r.type],
          ["Count", (r) => number(r.count)],
          ["Mean time between", (r) => duration(r.avg_seconds_between)],
        ],
        rows,
        { caption: "Event statistics", empty: "No events yet." },
      ),
    ];
  }

  async function renderHistory() {
    const answer = await api.get(`/repositories/${path}/history`, { from: from.value, to: to.value });
    const rows = [...answer.history].reverse();
    return table(
      [
        ["Date", (r) => r.date],
        ["Stars", (r) => number(r.stargazers)],
        ["Forks", (r) => number(r.forks)],
        ["Watchers", (r) => number(r.watchers)],
        ["Source", (r) => r.source],
      ],
      rows,
      { caption: `Daily history of ${full}`, empty: "No daily counts in this range yet." },
    );
  }
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}
