// API keys: create (the whole key is shown once, with a copy button), list, revoke.

import * as api from "./api.js";
import { h, clear, busy, load, table, field, when, number, badge, card, pageHeader, secret, notify } from "./ui.js";

const SCOPES = [
  ["sync:commits", "push commits"],
  ["read:repos", "read projects"],
  ["read:tracking", "read tracked repositories and accounts"],
  ["write:tracking", "track and untrack"],
  ["read:data", "read synced GitHub data"],
  ["admin:integration", "resync or remove the integration"],
  ["read:backups", "read backup reports and archives"],
];

export function keysPage(el) {
  const list = h("div", { id: "keys" });
  const created = h("div", { id: "created-key", "aria-live": "polite" });
  const errors = h("div");
  const name = h("input", { name: "name", required: true, maxlength: 100, placeholder: "laptop push client" });
  const days = h("input", { name: "expires_in_days", type: "number", min: 1, max: 365, placeholder: "never" });
  const boxes = SCOPES.map(([scope, what]) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "scope", value: scope }), h("code", {}, scope), h("small", { class: "muted" }, what)),
  );
  const create = h("button", { type: "submit", id: "create-key" }, "Create key");
  const form = h(
    "form",
    { class: "stack" },
    h("div", { class: "row" }, field("Name", name), field("Expires after (days)", days, "1–365; empty: never.")),
    h("fieldset", { class: "scopes" }, h("legend", {}, "Scopes (none checked: all)"), boxes),
    h("div", { class: "actions" }, create),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const scopes = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    const body = { name: name.value };
    if (scopes.length) body.scopes = scopes;
    if (days.value) body.expires_in_days = Number(days.value);
    const key = await busy(create, () => api.post("/api/v1/api-keys/", body), errors);
    if (!key) return;
    clear(
      created,
      h(
        "div",
        { class: "callout" },
        h("p", {}, h("strong", {}, `Key “${key.name}” created.`), " Copy it now: it is shown only once."),
        secret(key.full_key, "The new API key"),
      ),
    );
    form.reset();
    refresh();
  });
  const refresh = () =>
    load(list, async () => {
      const keys = await api.get("/api/v1/api-keys/");
      return table(
        [
          ["Name", (k) => k.name],
          ["Prefix", (k) => h("code", {}, k.prefix)],
          ["Scopes", (k) => h("small", {}, k.scopes.join(", "))],
          ["State", (k) => (k.is_active ? badge("active", "good") : badge(k.revoked_at ? "revoked" : "expired", "bad"))],
          ["Last used", (k) => when(k.last_used_at)],
          ["Uses", (k) => number(k.usage_count)],
          [
            "",
            (k) =>
              k.is_active
                ? h(
                    "button",
                    {
                      type: "button",
                      class: "danger small",
                      "aria-label": `Revoke ${k.name}`,
                      "data-revoke": k.prefix,
                      onclick: async (event) => {
                        if (!confirm(`Revoke the key “${k.name}”? Programs using it stop working at once.`)) return;
                        const done = await busy(event.currentTarget, () => api.del(`/api/v1/api-keys/${k.id}`));
                        if (done) {
                          notify(done.message || "Key revoked.");
                          refresh();
                        }
                      },
                    },
                    "Revoke",
                  )
                : "",
          ],
        ],
        keys,
        { caption: "API keys", empty: "No API key yet." },
      );
    });
  clear(
    el,
    pageHeader("API keys", "Keys for programs: the push client, scripts, CI. Each key can do only what its scopes allow."),
    card("Create a key", form, errors, created),
    card("Your keys", list),
  );
  refresh();
}
