// The dashboard's shell: signing in (password or GitHub), the section navigation (hash
// routes, so every page is `/` to the server) and signing out.

import * as api from "./api.js";
import { h, clear, notify, dismissNotice, busy, field, errorBox } from "./ui.js";
import { repositoriesPage } from "./repositories.js";
import { accountsPage } from "./accounts.js";
import { integrationPage } from "./integration.js";
import { keysPage } from "./keys.js";
import { projectsPage } from "./projects.js";
import { backupsPage } from "./backups.js";
import { sharesPage } from "./shares.js";
import { healthPage } from "./health.js";

const PAGES = {
  repositories: ["Repositories", repositoriesPage],
  accounts: ["Accounts", accountsPage],
  integration: ["GitHub data", integrationPage],
  keys: ["API keys", keysPage],
  projects: ["Projects", projectsPage],
  backups: ["Backups", backupsPage],
  shares: ["Share links", sharesPage],
  health: ["Sync health", healthPage],
};

const main = () => document.getElementById("main");
let me = null;

/** "Sign in with GitHub" comes back to `/#access_token=…` or `/#error=…`. */
function takeLoginOutcome() {
  const fragment = location.hash.slice(1);
  if (!fragment.includes("access_token=") && !fragment.includes("error=")) return null;
  const params = new URLSearchParams(fragment);
  history.replaceState(null, "", location.pathname + location.search + "#/repositories");
  if (params.get("access_token")) {
    api.setToken(params.get("access_token"));
    return { ok: true };
  }
  return { ok: false, message: params.get("error_description") || params.get("error") };
}

async function start() {
  document.getElementById("sign-out").addEventListener("click", signOut);
  api.onUnauthorized((message) => {
    api.setToken(null);
    me = null;
    showSignIn(`${message.replace(/\.$/, "")}. Please sign in again.`);
  });
  window.addEventListener("hashchange", () => {
    dismissNotice();
    route();
  });
  const outcome = takeLoginOutcome();
  if (outcome && !outcome.ok) {
    showSignIn(`Sign in with GitHub failed: ${outcome.message}`);
    return;
  }
  if (!api.token()) {
    showSignIn();
    return;
  }
  try {
    me = await api.get("/auth/me");
  } catch (e) {
    api.setToken(null);
    showSignIn(e.status === 401 ? null : e.message);
    return;
  }
  if (outcome && outcome.ok) notify(`Signed in with GitHub as ${me.username}.`);
  showSignedIn();
}

function showSignedIn() {
  document.getElementById("nav").hidden = false;
  document.getElementById("session").hidden = false;
  document.getElementById("who").textContent = me.github_login ? `${me.username} (GitHub: ${me.github_login})` : me.username;
  document.body.classList.add("signed-in");
  route();
}

function currentPage() {
  return location.hash.replace(/^#\/?/, "").split("/")[0];
}

function route() {
  if (!me) return;
  const name = currentPage();
  const page = PAGES[name];
  if (!page) {
    // Not a section (first visit, an old link): the repositories, without a history entry.
    history.replaceState(null, "", "#/repositories");
    route();
    return;
  }
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.getAttribute("href") === `#/${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${page[0]} · gitpulse`;
  const el = clear(main());
  page[1](el, me);
  el.focus({ preventScroll: true });
}

async function signOut() {
  api.setToken(null);
  me = null;
  notify("Signed out.");
  showSignIn();
}

function showSignIn(message) {
  document.getElementById("nav").hidden = true;
  document.getElementById("session").hidden = true;
  document.body.classList.remove("signed-in");
  document.title = "Sign in · gitpulse";
  const errors = h("div", { class: "form-errors" }, message ? errorBox(message) : null);
  const username = h("input", { name: "username", autocomplete: "username", required: true, minlength: 3, maxlength: 64 });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true, minlength: 8 });
  const signIn = h("button", { type: "submit", id: "sign-in" }, "Sign in");
  const register = h("button", { type: "button", class: "secondary", id: "register" }, "Create account");
  const github = h("button", { type: "button", class: "github", id: "github-sign-in" }, "Sign in with GitHub");

  const submit = (path, button) => async (event) => {
    event?.preventDefault();
    if (!form.reportValidity()) return;
    await busy(
      button,
      async () => {
        const answer = await api.post(path, { username: username.value, password: password.value });
        api.setToken(answer.access_token);
        me = await api.get("/auth/me");
        notify(path === "/auth/register" ? `Welcome, ${me.username}!` : `Signed in as ${me.username}.`);
        showSignedIn();
      },
      errors,
    );
  };
  const form = h(
    "form",
    { class: "stack", "aria-labelledby": "sign-in-title" },
    field("Username", username),
    field("Password", password, "At least 8 characters."),
    errors,
    h("div", { class: "actions" }, signIn, register),
  );
  form.addEventListener("submit", submit("/auth/login", signIn));
  register.addEventListener("click", submit("/auth/register", register));
  github.addEventListener("click", () =>
    busy(
      github,
      async () => {
        // Asked as JSON first, so a refusal (not configured, origin not allowed) shows here.
        const answer = await api.call("GET", "/auth/github/login", {
          query: { redirect_to: `${location.origin}/` },
        });
        location.assign(answer.authorize_url);
      },
      errors,
    ),
  );
  clear(
    main(),
    h(
      "div",
      { class: "auth" },
      h(
        "section",
        { class: "card auth-card" },
        h("h1", { id: "sign-in-title" }, "Sign in to gitpulse"),
        h("p", { class: "muted" }, "Track GitHub repositories, accounts and your synced GitHub data."),
        form,
        h("div", { class: "divider" }, h("span", {}, "or")),
        github,
      ),
    ),
  );
  username.focus();
}

start();
