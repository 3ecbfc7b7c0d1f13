// Backups: register a repository (webhook link and secret shown once), list a company's
// registrations and backup reports, rotate a secret, download an archive.

import * as api from "./api.js";
import { h, clear, busy, load, table, field, when, badge, card, pageHeader, secret, copyButton, notify } from "./ui.js";

const NAME = "[A-Za-z0-9._-]{1,100}";

export function backupsPage(el, me) {
  const registered = h("div", { "aria-live": "polite" });
  const errors = h("div");
  const inputs = {
    repository_name: h("input", { required: true, pattern: NAME, placeholder: "100058-editor", spellcheck: "false" }),
    repository_url: h("input", { required: true, placeholder: "https://github.com/acme/editor.git", spellcheck: "false" }),
    org_name: h("input", { required: true, maxlength: 200, placeholder: "acme" }),
    company_id: h("input", { required: true, pattern: NAME, placeholder: "acme", spellcheck: "false" }),
    data_type: h("input", { required: true, maxlength: 200, value: "real_data" }),
    created_by: h("input", { required: true, maxlength: 200, value: me.username }),
  };
  for (const [name, input] of Object.entries(inputs)) input.name = name;
  const register = h("button", { type: "submit", id: "register-backup" }, "Register and clone");
  const form = h(
    "form",
    { class: "stack" },
    h(
      "div",
      { class: "grid" },
      field("Repository name", inputs.repository_name),
      field("Repository URL", inputs.repository_url, "https:// on an allowed host."),
      field("Organization", inputs.org_name),
      field("Company id", inputs.company_id),
      field("Data type", inputs.data_type),
      field("Created by", inputs.created_by),
    ),
    h("div", { class: "actions" }, register),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value.trim()]));
    const done = await busy(register, () => api.post("/backup/repositoryClone/", body), errors);
    if (!done) return;
    clear(registered, webhookCallout(done.status, done.webhook_link, done.webhook_secret));
    company.value = body.company_id;
    show();
  });

  const company = h("input", { name: "company", required: true, pattern: NAME, placeholder: "acme", spellcheck: "false" });
  const view = h("button", { type: "submit", class: "secondary", id: "show-backups" }, "Show");
  const reports = h("div", { id: "backup-reports" });
  const pick = h("form", { class: "inline-form" }, field("Company id", company), view);
  const show = () => {
    if (!company.value.trim()) return;
    load(reports, () => renderCompany(company.value.trim(), registered));
  };
  pick.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  clear(
    el,
    pageHeader("Backups", "Zip backups of repositories, made when GitHub sends a push webhook signed with the registration's secret."),
    card("Register a repository", form, errors, registered),
    card("Registrations and reports", pick, reports),
  );
}

function webhookCallout(title, link, secretValue) {
  return h(
    "div",
    { class: "callout", id: "webhook" },
    h("p", {}, h("strong", {}, title), " Give GitHub this webhook (content type application/json, push events). The secret is shown only now."),
    h("p", { class: "label" }, "Payload URL"),
    h("div", { class: "secret" }, h("code", {}, link), copyButton(link)),
    h("p", { class: "label" }, "Secret"),
    secret(secretValue, "Webhook secret"),
  );
}

async function renderCompany(companyId, callout) {
  const id = encodeURIComponent(companyId);
  const [registrations, backups] = await Promise.all([api.get(`/get-repository-reports/${id}/`), api.get(`/get-backup-reports/${id}/`)]);
  return [
    h("h3", {}, "Registrations"),
    table(
      [
        ["Repository", (r) => r.repository_name],
        ["URL", (r) => h("small", {}, r.repository_url)],
        ["Webhook", (r) => h("span", { class: "secret" }, h("code", {}, r.webhook_link), copyButton(r.webhook_link))],
        ["Registered", (r) => `${r.date_of_registration} ${r.time_of_registration}`],
        [
          "",
          (r) =>
            h(
              "button",
              {
                type: "button",
                class: "ghost small",
                onclick: async (event) => {
                  if (!confirm(`Make a new webhook secret for ${r.repository_name}? The old one stops working at once.`)) return;
                  const path = `/backup/repositories/${encodeURIComponent(r.company_id)}/${encodeURIComponent(r.repository_name)}/rotate-secret`;
                  const done = await busy(event.currentTarget, () => api.post(path));
                  if (done) clear(callout, webhookCallout(`New secret for ${r.repository_name}.`, done.webhook_link, done.webhook_secret));
                },
              },
              "New secret",
            ),
        ],
      ],
      registrations.data,
      { caption: "Registrations", empty: "No registration for this company id." },
    ),
    h("h3", {}, "Backups"),
    table(
      [
        ["Id", (b) => b.backup_id],
        ["Repository", (b) => b.repository_name],
        ["Status", (b) => badge(b.status, { done: "good", failed: "bad", queued: "warn", running: "warn" }[b.status] || "")],
        ["When", (b) => when(b.backup_at)],
        ["Pusher", (b) => b.pusher ?? "—"],
        ["Size", (b) => (b.size_bytes ? `${(b.size_bytes / 1024).toFixed(1)} KiB` : "—")],
        ["", (b) => (b.status === "done" ? downloadButton(b) : b.error ? h("small", {}, b.error) : "")],
      ],
      backups.data,
      { caption: "Backups", empty: "No backup yet: they start with the first signed push." },
    ),
  ];
}

function downloadButton(b) {
  return h(
    "button",
    {
      type: "button",
      class: "secondary small",
      onclick: (event) =>
        busy(event.currentTarget, async () => {
          const { blob, name } = await api.download(`/backup/archives/${b.backup_id}`);
          const url = URL.createObjectURL(blob);
          const a = h("a", { href: url, download: name || b.zip_file_name });
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10000);
          notify(`Downloaded ${name || b.zip_file_name}.`);
        }),
    },
    "Download",
  );
}
