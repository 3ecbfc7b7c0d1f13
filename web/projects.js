// Projects and their repositories, with the push (or pull) status of each repository.

import * as api from "./api.js";
import { h, clear, busy, load, table, field, when, number, badge, card, pageHeader, notify } from "./ui.js";

export function projectsPage(el) {
  const list = h("div", { id: "projects" });
  const errors = h("div");
  const name = h("input", { name: "name", required: true, maxlength: 255, placeholder: "Backend" });
  const slug = h("input", { name: "slug", required: true, pattern: "[a-z0-9-]{1,64}", placeholder: "backend", spellcheck: "false" });
  name.addEventListener("input", () => {
    if (!slug.dataset.touched) slug.value = name.value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 64);
  });
  slug.addEventListener("input", () => (slug.dataset.touched = "1"));
  const create = h("button", { type: "submit", id: "create-project" }, "Create project");
  const form = h("form", { class: "inline-form" }, field("Name", name), field("Slug", slug, "Lowercase letters, digits and -."), create);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const project = await busy(create, () => api.post("/api/v1/projects", { name: name.value, slug: slug.value }), errors);
    if (project) {
      notify(`Project ${project.name} created.`);
      form.reset();
      delete slug.dataset.touched;
      refresh();
    }
  });
  const refresh = () =>
    load(list, async () => {
      const projects = await api.get("/api/v1/projects");
      if (!projects.length) return h("p", { class: "muted" }, "No project yet.");
      return projects.map(projectCard);
    });
  clear(
    el,
    pageHeader("Projects", "Repositories whose commits the push client sends (gitpulse client sync), or that gitpulse pulls itself."),
    card("Create a project", form, errors),
    h("div", { class: "stack" }, list),
  );
  refresh();
}

function projectCard(project) {
  const repos = h("div");
  const errors = h("div");
  const name = h("input", { name: "repo", required: true, maxlength: 255, placeholder: "api-server" });
  const method = h("select", { name: "sync_method" }, h("option", { value: "push_client" }, "push client"), h("option", { value: "pull" }, "pull"));
  const remote = h("input", { name: "remote_url", placeholder: "https://github.com/owner/name.git", maxlength: 2048 });
  const add = h("button", { type: "submit", class: "secondary" }, "Add repository");
  const form = h("form", { class: "inline-form" }, field("Repository", name), field("Sync", method), field("Remote URL (pull)", remote), add);
  const refresh = () =>
    load(repos, async () =>
      table(
        [
          ["Id", (r) => r.id],
          ["Name", (r) => r.name],
          ["Sync", (r) => r.sync_method.replace("_", " ")],
          ["Status", status],
          ["Commits", (r) => number(r.total_commits)],
          ["Last sync", (r) => when(r.last_sync_at)],
          ["Last commit", (r) => (r.last_ingested_sha ? h("code", {}, r.last_ingested_sha.slice(0, 7)) : "—")],
        ],
        await api.get(`/api/v1/projects/${project.id}/repos`),
        { caption: `Repositories of ${project.name}`, empty: "No repository in this project yet." },
      ),
    );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.value, sync_method: method.value };
    if (remote.value.trim()) body.remote_url = remote.value.trim();
    if (await busy(add, () => api.post(`/api/v1/projects/${project.id}/repos`, body), errors)) {
      form.reset();
      refresh();
    }
  });
  refresh();
  return card(
    null,
    h("h2", {}, project.name, " ", h("small", { class: "muted" }, `${project.slug} · project ${project.id}`)),
    repos,
    h("details", {}, h("summary", {}, "Add a repository"), form, errors),
  );
}

function status(r) {
  const kind = { healthy: "good", syncing: "warn", pending: "", error: "bad" }[r.status] || "";
  return h("span", {}, badge(r.status, kind), r.error_message ? h("small", { class: "muted" }, ` ${r.error_message}`) : null);
}
