// The GitHub integration: its status, a resync, and a browser over the synced data
// (`/data/{collection}`: filter, search, sort, pages).

import * as api from "./api.js";
import { h, clear, busy, load, table, field, when, number, badge, card, pageHeader, notify } from "./ui.js";

const COLLECTIONS = {
  github_commits: [
    ["SHA", (d) => h("code", {}, (d.sha || "").slice(0, 7))],
    ["Message", (d) => firstLine(d.commit?.message)],
    ["Author", (d) => d.commit?.author?.name ?? "—"],
    ["Date", (d) => when(d.commit?.author?.date)],
  ],
  github_pulls: [
    ["#", (d) => d.number],
    ["Title", (d) => d.title],
    ["State", (d) => d.state],
    ["Author", (d) => d.user?.login ?? "—"],
    ["Created", (d) => when(d.created_at)],
  ],
  github_issues: [
    ["#", (d) => d.number],
    ["Title", (d) => d.title],
    ["State", (d) => d.state],
    ["Author", (d) => d.user?.login ?? "—"],
    ["Created", (d) => when(d.created_at)],
  ],
  github_repos: [
    ["Repository", (d) => d.full_name],
    ["Stars", (d) => number(d.stargazers_count)],
    ["Language", (d) => d.language ?? "—"],
    ["Updated", (d) => when(d.updated_at)],
  ],
  github_users: [
    ["Login", (d) => d.login],
    ["Name", (d) => d.name ?? "—"],
    ["Type", (d) => d.type ?? "—"],
  ],
  github_organizations: [
    ["Login", (d) => d.login],
    ["Description", (d) => d.description ?? "—"],
  ],
  github_changelogs: [
    ["Event", (d) => d.event ?? "—"],
    ["Actor", (d) => d.actor?.login ?? "—"],
    ["Created", (d) => when(d.created_at)],
  ],
};

function firstLine(text) {
  return (text || "").split("\n")[0];
}

export function integrationPage(el) {
  const status = h("div", { id: "integration-status" });
  const refresh = () => load(status, renderStatus);
  clear(
    el,
    pageHeader("GitHub data", "Your GitHub account's organizations, repositories, commits, pull requests and issues, synced by “Sign in with GitHub”."),
    card("Integration", status),
    card("Browse the data", dataBrowser()),
  );
  refresh();

  async function renderStatus() {
    const s = await api.get("/integration/status");
    if (s.status === "not_connected") {
      const connect = h("button", { type: "button", class: "github", id: "connect-github" }, "Connect GitHub");
      const errors = h("div");
      connect.addEventListener("click", () =>
        busy(
          connect,
          async () => {
            // With the token, GitHub is linked to this account rather than signing in.
            const answer = await api.get("/auth/github/login", { redirect_to: `${location.origin}/` });
            location.assign(answer.authorize_url);
          },
          errors,
        ),
      );
      return [h("p", {}, "No GitHub account is connected to this gitpulse account."), connect, errors];
    }
    const sync = s.sync || {};
    const counts = sync.counts || {};
    const resync = h("button", { type: "button", class: "secondary", id: "resync" }, "Resync now");
    const errors = h("div");
    resync.addEventListener("click", async () => {
      const done = await busy(resync, () => api.post("/integration/resync"), errors);
      if (done) {
        notify(done.message || "Resync started.");
        setTimeout(refresh, 1500);
      }
    });
    const kind = { connected: "good", syncing: "warn", error: "bad" }[s.status] || "";
    return [
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "GitHub account"),
        h("dd", {}, s.user?.login ?? "—"),
        h("dt", {}, "Status"),
        h("dd", { id: "integration-state" }, badge(s.status, kind), " ", sync.state ? h("small", { class: "muted" }, `sync ${sync.state}`) : null),
        h("dt", {}, "Last sync"),
        h("dd", {}, when(s.last_sync)),
        sync.error ? [h("dt", {}, "Error"), h("dd", {}, sync.error)] : null,
      ),
      table(
        [
          ["Collection", (r) => r[0]],
          ["Documents", (r) => number(r[1])],
        ],
        Object.entries(counts),
        { caption: "Documents synced", empty: "No documents synced yet." },
      ),
      h("div", { class: "actions" }, resync, h("button", { type: "button", class: "ghost", onclick: refresh }, "Refresh")),
      errors,
    ];
  }
}

function dataBrowser() {
  const collection = h("select", { name: "collection", id: "collection" }, Object.keys(COLLECTIONS).map((c) => h("option", { value: c }, c.replace("github_", ""))));
  const search = h("input", { name: "search", type: "search", placeholder: "text to find", maxlength: 200 });
  const filter = h("input", { name: "filter", placeholder: '{"state": "open"}', spellcheck: "false", class: "mono" });
  const sortBy = h("input", { name: "sort_by", placeholder: "e.g. created_at", pattern: "[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*", spellcheck: "false" });
  const sortOrder = h("select", { name: "sort_order" }, h("option", { value: "asc" }, "ascending"), h("option", { value: "desc" }, "descending"));
  const limit = h("select", { name: "limit" }, [10, 20, 50, 100].map((n) => h("option", { value: n, selected: n === 20 }, n)));
  const go = h("button", { type: "submit", id: "browse" }, "Show");
  const results = h("div", { id: "data-results", "aria-live": "polite" });
  const errors = h("div");
  let page = 1;
  const form = h(
    "form",
    { class: "controls", id: "data-form" },
    field("Collection", collection),
    field("Search", search),
    field("Filter (JSON)", filter),
    field("Sort by", sortBy),
    field("Order", sortOrder),
    field("Per page", limit),
    go,
  );
  const show = () =>
    busy(
      go,
      async () => {
        const answer = await api.get(`/data/${collection.value}`, {
          page,
          limit: limit.value,
          search: search.value.trim(),
          filter: filter.value.trim(),
          sort_by: sortBy.value.trim(),
          sort_order: sortOrder.value,
        });
        renderPage(answer);
      },
      errors,
    );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    page = 1;
    show();
  });
  function renderPage(answer) {
    const p = answer.pagination;
    const prev = h("button", { type: "button", class: "secondary small", disabled: !p.has_previous, onclick: () => ((page -= 1), show()) }, "← Previous");
    const next = h("button", { type: "button", class: "secondary small", disabled: !p.has_next, id: "next-page", onclick: () => ((page += 1), show()) }, "Next →");
    const columns = [
      ...COLLECTIONS[answer.meta.collection],
      ["", (d) => h("details", {}, h("summary", {}, "JSON"), h("pre", {}, JSON.stringify(d, null, 2)))],
    ];
    clear(
      results,
      h(
        "p",
        { class: "muted", id: "data-summary" },
        `${number(p.total_items)}${answer.meta.total_is_estimate ? " (about)" : ""} documents · page ${p.current_page} of ${number(p.total_pages)}`,
      ),
      table(columns, answer.data, { caption: answer.meta.collection, empty: "No document matches." }),
      h("div", { class: "pager" }, prev, next),
    );
  }
  return [form, errors, results];
}
