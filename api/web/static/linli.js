// linli pages, shared part: words, the signed-in session, calls to the JSON API, DOM helpers,
// the large-text and sign-out switches. Every read and write goes through the API with the
// user's bearer token, so the API's checks decide what a page may show or change.
"use strict";

const Linli = (() => {
  const messages = JSON.parse(document.getElementById("linli-i18n").textContent);
  const lang = document.body.dataset.lang || "zh";
  const locale = lang === "zh" ? "zh-CN" : "en-GB";
  const TOKEN = "linli.token";
  const PRINCIPAL = "linli.principal";
  const LARGE = "linli.largeText";
  const HOME = { driver: "/web/driver", leader: "/web/leader", dispatcher: "/web/dispatcher", admin: "/web/dispatcher", volunteer: "/web/volunteer" };

  /** A message in the page's language, with {name} placeholders filled. */
  function t(key, values) {
    let text = messages[key] ?? key;
    for (const [name, value] of Object.entries(values || {})) {
      text = text.split(`{${name}}`).join(String(value));
    }
    return text;
  }

  /** Pick zh or en from a {zh, en} pair, or from two fields named *_zh and *_en. */
  function pick(pair) {
    return lang === "zh" ? pair.zh : pair.en;
  }

  function token() {
    return localStorage.getItem(TOKEN);
  }

  function principal() {
    try {
      return JSON.parse(localStorage.getItem(PRINCIPAL) || "null");
    } catch (e) {
      return null;
    }
  }

  function saveSession(reply) {
    localStorage.setItem(TOKEN, reply.access_token);
    localStorage.setItem(PRINCIPAL, JSON.stringify(reply.principal));
  }

  function clearSession() {
    localStorage.removeItem(TOKEN);
    localStorage.removeItem(PRINCIPAL);
  }

  /** An error answer of the API: HTTP status and its JSON body. */
  class ApiError extends Error {
    constructor(status, body) {
      super(typeof body?.detail === "string" ? body.detail : JSON.stringify(body?.detail ?? body));
      this.status = status;
      this.body = body;
    }
  }

  /** Call the JSON API with the bearer token; the parsed answer, or an ApiError. */
  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    const bearer = token();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    let body;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.form !== undefined) {
      body = new URLSearchParams(options.form);
    }
    const reply = await fetch(path, { method: options.method || (body ? "POST" : "GET"), headers, body });
    const text = await reply.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = { detail: text };
    }
    if (!reply.ok) {
      if (reply.status === 401 && !options.anonymous) {
        clearSession();
        window.location.assign(`/web/login?next=${encodeURIComponent(location.pathname + location.search)}`);
      }
      throw new ApiError(reply.status, data);
    }
    return data;
  }

  /** A sentence for an error: the API's detail, or that the network is down. */
  function errorText(error) {
    if (error instanceof ApiError) return t("error") + error.message;
    return t("error") + (navigator.onLine ? String(error.message || error) : t("offline"));
  }

  /** Build an element: attributes (class, text, on* handlers, booleans) and children. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** A table with a caption, column headers and rows of cells (numbers right-aligned). */
  function table(caption, headers, rows, numeric = []) {
    const head = el("tr", {}, headers.map((h, i) => el("th", { scope: "col", class: numeric.includes(i) ? "num" : null, text: h })));
    const body = rows.map((row) => el("tr", {}, row.map((cell, i) => el("td", { class: numeric.includes(i) ? "num" : null }, cell))));
    return el("table", {}, el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, body));
  }

  const timeFormat = new Intl.DateTimeFormat(locale, { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false });
  const dateTimeFormat = new Intl.DateTimeFormat(locale, {
    timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });

  function time(iso) {
    return iso ? timeFormat.format(new Date(iso)) : "";
  }

  function dateTime(iso) {
    return iso ? dateTimeFormat.format(new Date(iso)) : "";
  }

  function number(n) {
    return new Intl.NumberFormat(locale).format(n);
  }

  function deliveryDate() {
    const input = document.getElementById("date");
    return input ? input.value : "";
  }

  function status(text, kind) {
    const node = document.getElementById("status");
    node.textContent = text || "";
    node.className = kind === "error" ? "error" : "";
  }

  /** The signed-in principal if this page is for its role; else send to sign-in or say why. */
  function requireRole() {
    const who = principal();
    if (!token() || !who) {
      window.location.assign(`/web/login?next=${encodeURIComponent(location.pathname + location.search)}`);
      return null;
    }
    const roles = (document.body.dataset.roles || "").split(" ").filter(Boolean);
    if (roles.length && !roles.includes(who.role)) {
      status(t("wrong_role") + who.role, "error");
      return null;
    }
    return who;
  }

  /** A fresh key for one action (event id and Idempotency-Key). */
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `k${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;
  }

  /** Poll a job until it succeeds or fails, reporting each state. */
  async function waitForJob(jobId, report) {
    for (;;) {
      const job = await api(`/jobs/${encodeURIComponent(jobId)}`);
      report(job);
      if (job.status === "succeeded" || job.status === "failed") return job;
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
  }

  function jobText(job) {
    const state = t(`job_${job.status}`);
    return `${t("job")} ${job.job_id} (${job.kind}): ${state} ${job.progress}%${job.error ? ` — ${job.error}` : ""}`;
  }

  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const area = el("textarea", { "aria-hidden": "true" });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    if (button) {
      const before = button.textContent;
      button.textContent = t("copied");
      setTimeout(() => { button.textContent = before; }, 1500);
    }
  }

  /** Print only one section of the page. */
  function printSection(id) {
    const section = document.getElementById(id);
    section.classList.add("print-target");
    document.body.classList.add("printing");
    window.print();
    document.body.classList.remove("printing");
    section.classList.remove("print-target");
  }

  const categoryNames = {};
  /** Remember a category's names from any CategoryRef the API sent. */
  function learnCategory(ref) {
    if (ref && ref.category_id) categoryNames[ref.category_id] = lang === "zh" ? ref.name_zh : ref.name_en;
  }

  function categoryName(id) {
    return categoryNames[id] || id;
  }

  function setUpFrame() {
    const large = document.getElementById("large-text");
    const on = document.documentElement.classList.contains("large-text");
    large.setAttribute("aria-pressed", String(on));
    large.addEventListener("click", () => {
      const now = document.documentElement.classList.toggle("large-text");
      large.setAttribute("aria-pressed", String(now));
      localStorage.setItem(LARGE, now ? "1" : "0");
    });
    const who = principal();
    const logout = document.getElementById("logout");
    if (who && token()) {
      document.getElementById("whoami").textContent = `${t("signed_in_as")}${who.username} (${who.role})`;
      logout.hidden = false;
    }
    logout.addEventListener("click", () => {
      clearSession();
      window.location.assign("/web/login");
    });
    for (const button of document.querySelectorAll("[data-print]")) {
      button.addEventListener("click", () => printSection(button.dataset.print));
    }
  }

  setUpFrame();

  return {
    t, pick, lang, token, principal, saveSession, clearSession, api, ApiError, errorText, el, table,
    time, dateTime, number, deliveryDate, status, requireRole, newKey, waitForJob, jobText, copy,
    learnCategory, categoryName, HOME,
  };
})();
