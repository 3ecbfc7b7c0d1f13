// Share links: public, unguessable URLs of a chart or badge for READMEs and wikis
// (create, copy, revoke). They render without a token; revoking one makes it 404.

import * as api from "./api.js";
import { h, clear, busy, load, table, field, when, card, pageHeader, copyButton, notify } from "./ui.js";

export function sharesPage(el) {
  const list = h("div", { id: "share-links" });
  const created = h("div", { "aria-live": "polite" });
  const errors = h("div");
  const kind = h(
    "select",
    { name: "chart", id: "share-chart" },
    h("option", { value: "stars" }, "Star history chart"),
    h("option", { value: "events" }, "Events chart"),
    h("option", { value: "badge" }, "Stars badge"),
  );
  const repos = h("input", { name: "repos", required: true, placeholder: "acme/widgets", spellcheck: "false" });
  const metric = h("select", { name: "metric" }, ["stars", "forks", "watchers"].map((m) => h("option", { value: m }, m)));
  const scale = h("select", { name: "scale" }, ["linear", "log"].map((s) => h("option", { value: s }, s)));
  const days = h("input", { name: "days", type: "number", min: 1, max: 365, value: 30 });
  const starsOnly = [field("Metric", metric), field("Scale", scale)];
  const eventsOnly = [field("Days", days)];
  const reposField = field("Repository", repos, "owner/name; for a star chart, up to 10 separated by commas.");
  const create = h("button", { type: "submit", id: "create-share" }, "Create link");
  const form = h("form", { class: "controls" }, field("What", kind), reposField, starsOnly, eventsOnly, create);
  const sync = () => {
    starsOnly.forEach((f) => (f.hidden = kind.value !== "stars"));
    eventsOnly.forEach((f) => (f.hidden = kind.value !== "events"));
  };
  kind.addEventListener("change", sync);
  sync();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const target = repos.value.replace(/\s+/g, "");
    const params =
      kind.value === "stars"
        ? { repos: target, metric: metric.value, scale: scale.value }
        : kind.value === "events"
          ? { repo: target, days: Number(days.value) }
          : { repo: target };
    const link = await busy(create, () => api.post("/charts/links", { chart: kind.value, params }), errors);
    if (!link) return;
    clear(
      created,
      h(
        "div",
        { class: "callout" },
        h("p", {}, h("strong", {}, "Link created."), " Anyone with it sees this chart, without signing in."),
        linkLine(link.url),
        h("p", { class: "label" }, "Markdown"),
        linkLine(`![${link.chart}](${link.url})`),
      ),
    );
    refresh();
  });
  const refresh = () =>
    load(list, async () => {
      const { links } = await api.get("/charts/links");
      return table(
        [
          ["Chart", (l) => l.chart],
          ["Parameters", (l) => h("small", {}, Object.entries(l.params || {}).map(([k, v]) => `${k}=${v}`).join(" · "))],
          ["URL", (l) => linkLine(l.url)],
          ["Created", (l) => when(l.created_at)],
          [
            "",
            (l) =>
              h(
                "button",
                {
                  type: "button",
                  class: "danger small",
                  "aria-label": `Revoke the ${l.chart} link`,
                  onclick: async (event) => {
                    if (!confirm("Revoke this link? Pages that embed it will show a broken image.")) return;
                    const done = await busy(event.currentTarget, () => api.del(`/charts/links/${encodeURIComponent(l.id)}`).then(() => true));
                    if (done) {
                      notify("Link revoked.");
                      refresh();
                    }
                  },
                },
                "Revoke",
              ),
          ],
        ],
        links,
        { caption: "Share links", empty: "No share link yet." },
      );
    });
  clear(
    el,
    pageHeader("Share links", "Embed a chart or badge in a README or wiki without a token. Only repositories you track can be shared."),
    card("Create a link", form, errors, created),
    card("Your links", list),
  );
  refresh();
}

function linkLine(text) {
  return h("div", { class: "secret" }, h("code", {}, text), copyButton(text));
}
