// Join page (no sign-in): the group at the leader's link, read from its public ledger
// (package, price against list price, declared fee and commission, threshold, deadline,
// state) and the sign-up form. The link's token is the key, as in the API; the answer is the
// household's own code, which opens its self-check page /web/me/{code}.
"use strict";

(() => {
  const { t, el, api } = Linli;
  const root = document.getElementById("join");
  const FIELDS = ["compound_id", "building_id", "room", "household_name", "phone", "quantity_units", "priority_flags"];
  const INPUTS = { compound_id: "compound", building_id: "building", room: "room", household_name: "household-name", phone: "phone", quantity_units: "units" };
  let ledger = null;
  let roster = [];
  let sending = false;
  let lastSent = null;
  let attemptKey = null;
  let signedUp = false;

  /** Money in cents as yuan with two decimals. */
  function yuan(cents) {
    return `¥${(cents / 100).toFixed(2)}`;
  }

  function countdown(deadline) {
    const left = new Date(deadline).getTime() - Date.now();
    if (left <= 0) return t("deadline_passed");
    const s = Math.floor(left / 1000);
    const d = Math.floor(s / 86400);
    const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60]
      .map((n) => String(n).padStart(2, "0")).join(":");
    return (d ? t("days_short", { d }) : "") + hms;
  }

  function tick() {
    for (const node of document.querySelectorAll("[data-deadline]")) node.textContent = countdown(node.dataset.deadline);
    if (ledger) showOpen();
  }

  /** Whether the group takes sign-ups now. */
  function isOpen() {
    return ledger && ledger.state === "open" && new Date(ledger.deadline).getTime() > Date.now();
  }

  function showOpen() {
    const open = isOpen();
    document.getElementById("signup-form").hidden = !open || signedUp;
    document.getElementById("signup-closed").hidden = open;
  }

  function renderGroup() {
    const price = ledger.list_price_cents === null
      ? [yuan(ledger.unit_price_cents), " ", el("span", { class: "note", text: t("list_price_none") })]
      : [yuan(ledger.unit_price_cents), " ", t("list_price_vs", { list: yuan(ledger.list_price_cents) }),
        ledger.list_price_cents > ledger.unit_price_cents
          ? ` (${t("saving_each", { saving: yuan(ledger.list_price_cents - ledger.unit_price_cents) })})` : ""];
    const progress = el("progress", { max: String(ledger.threshold_units), value: String(Math.min(ledger.committed_units, ledger.threshold_units)), "aria-labelledby": "committed-label" });
    document.getElementById("group").replaceChildren(
      el("dl", { class: "facts" },
        el("dt", { text: t("package") }), el("dd", { text: ledger.package_name || ledger.category_id }),
        el("dt", { text: t("supplier") }), el("dd", { text: ledger.supplier_name }),
        el("dt", { text: t("compound") }), el("dd", { text: ledger.compound_name }),
        el("dt", { text: t("unit_price") }), el("dd", {}, price),
        el("dt", { text: t("case_size") }), el("dd", { text: t("case_size_text", { n: ledger.case_size_units }) }),
        el("dt", { text: t("delivery_fee") }), el("dd", { text: yuan(ledger.delivery_fee_cents) }),
        el("dt", { text: t("leader_commission") }), el("dd", { text: yuan(ledger.leader_commission_cents) }),
        el("dt", { text: t("threshold") }), el("dd", { text: t("units_n", { n: Linli.number(ledger.threshold_units) }) }),
        el("dt", { id: "committed-label", text: t("committed") }),
        el("dd", {}, t("units_n", { n: Linli.number(ledger.committed_units) }), progress),
        el("dt", { text: t("deadline") }), el("dd", { text: Linli.dateTime(ledger.deadline) }),
        el("dt", { text: t("countdown") }), el("dd", {}, el("span", { class: "countdown", "data-deadline": ledger.deadline }, countdown(ledger.deadline))),
        el("dt", { text: t("state") }),
        el("dd", {}, el("span", { class: "state-word", "data-state": ledger.state }, t(`group_state_${ledger.state}`)),
          el("p", { class: "state-note note", text: t(`group_note_${ledger.state}`) }))),
      el("p", { class: "note", text: t("fees_note") }));
  }

  function renderRoster() {
    const compounds = [...new Map(roster.map((b) => [b.compound_id, b.compound_name])).entries()];
    const compound = document.getElementById("compound");
    compound.replaceChildren(...compounds.map(([id, name]) => el("option", { value: id }, name)));
    document.getElementById("compound-field").hidden = compounds.length < 2;
    fillBuildings();
    compound.addEventListener("change", fillBuildings);
  }

  function fillBuildings() {
    const compoundId = document.getElementById("compound").value;
    const choices = roster.filter((b) => b.compound_id === compoundId);
    document.getElementById("building").replaceChildren(
      el("option", { value: "" }, t("choose_building")),
      ...choices.map((b) => el("option", { value: b.building_id }, b.name)));
  }

  function clearErrors() {
    for (const field of FIELDS) {
      document.getElementById(`${field}-error`).replaceChildren();
      const input = INPUTS[field] && document.getElementById(INPUTS[field]);
      if (input) input.removeAttribute("aria-invalid");
    }
    document.getElementById("signup-error").textContent = "";
  }

  /** Put a message next to its field, in the page's language, with the API's own words. */
  function fieldError(field, detail) {
    const shown = FIELDS.includes(field) && !document.getElementById(`${field}-error`).closest("[hidden]");
    const known = shown ? field : null;
    const target = document.getElementById(known ? `${known}-error` : "signup-error");
    const words = t(`field_error_${known || "other"}`);
    target.replaceChildren(words, detail ? el("span", { class: "detail", lang: "en", text: detail }) : "");
    const input = known && INPUTS[known] && document.getElementById(INPUTS[known]);
    if (input) input.setAttribute("aria-invalid", "true");
    return input || null;
  }

  /** Show the API's refusal: roster issues and validation problems next to their fields. */
  function showRefusal(error) {
    const detail = error.body && error.body.detail;
    let first = null;
    if (Array.isArray(detail) && detail.length) {
      for (const problem of detail) {
        const field = String(problem.field || "").split(".")[0];
        const text = [problem.message, problem.hint ? `(${problem.hint})` : ""].filter(Boolean).join(" ");
        const input = fieldError(field, text);
        if (!first) first = input;
      }
    } else if (error.body && error.body.error === "group_closed") {
      document.getElementById("signup-error").textContent = t("signup_closed");
    } else {
      document.getElementById("signup-error").textContent = Linli.errorText(error);
    }
    if (first) first.focus();
  }

  function showReceipt(receipt) {
    const link = `/web/me/${encodeURIComponent(receipt.resident_code)}`;
    const box = document.getElementById("receipt");
    box.replaceChildren(
      el("h3", { text: t("signup_done") }),
      el("p", {}, t("your_code"), " ", el("span", { class: "code", id: "resident-code" }, receipt.resident_code)),
      el("p", { class: "headline", text: t("keep_code") }),
      el("p", {}, el("a", { class: "button", id: "me-link", href: link }, t("open_my_line"))),
      el("p", { class: "note" }, t("units_n", { n: receipt.quantity_units }), " · ", t(`line_state_${receipt.state}`)),
      el("button", { type: "button", class: "secondary", id: "signup-again", onclick: () => {
        signedUp = false;
        box.hidden = true;
        document.getElementById("signup-form").reset();
        showOpen();
        document.getElementById("room").focus();
      } }, t("signup_another")));
    signedUp = true;
    document.getElementById("signup-form").hidden = true;
    box.hidden = false;
    box.focus();
  }

  async function submit(event) {
    event.preventDefault();
    if (sending) return;
    clearErrors();
    const value = (id) => document.getElementById(id).value.trim();
    const body = {
      compound_id: document.getElementById("compound").value,
      building_id: value("building"),
      room: value("room"),
      household_name: value("household-name"),
      phone: value("phone"),
      quantity_units: Number(value("units")),
      proxy: document.getElementById("proxy").checked,
      priority_flags: [...document.querySelectorAll("input[name='priority']:checked")].map((x) => x.value),
    };
    const missing = [];
    if (!body.building_id) missing.push(fieldError("building_id", ""));
    if (!body.room) missing.push(fieldError("room", ""));
    if (!Number.isInteger(body.quantity_units) || body.quantity_units < 1 || body.quantity_units > 100) {
      missing.push(fieldError("quantity_units", ""));
    }
    if (missing.length) {
      missing[0].focus();
      return;
    }
    // one key per distinct sign-up: resent after a lost answer, it is not a second line
    const sent = JSON.stringify(body);
    if (sent !== lastSent) {
      lastSent = sent;
      attemptKey = window.crypto && crypto.randomUUID
        ? crypto.randomUUID()
        : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    }
    sending = true;
    const button = document.getElementById("signup-button");
    button.disabled = true;
    Linli.status(t("loading"));
    try {
      const receipt = await api(`/public/groups/${encodeURIComponent(root.dataset.token)}/signups`, {
        json: body,
        anonymous: true,
        headers: { "Idempotency-Key": attemptKey },
      });
      lastSent = null;
      Linli.status("");
      showReceipt(receipt);
      await loadLedger();
    } catch (error) {
      Linli.status("");
      if (error instanceof Linli.ApiError) showRefusal(error);
      else document.getElementById("signup-error").textContent = Linli.errorText(error);
    } finally {
      sending = false;
      button.disabled = false;
    }
  }

  async function loadLedger() {
    ledger = await api(`/public/ledger/${encodeURIComponent(root.dataset.token)}`, { anonymous: true });
    renderGroup();
    showOpen();
  }

  async function start() {
    Linli.status(t("loading"));
    try {
      const token = encodeURIComponent(root.dataset.token);
      [, roster] = await Promise.all([loadLedger(), api(`/public/groups/${token}/roster`, { anonymous: true })]);
      renderRoster();
      Linli.status("");
    } catch (error) {
      const unknown = error instanceof Linli.ApiError && error.status === 404;
      Linli.status(unknown ? t("join_unknown") : Linli.errorText(error), "error");
      document.getElementById("group").replaceChildren();
      document.getElementById("signup-form").hidden = true;
    }
    document.body.dataset.ready = "1";
  }

  /** Without a link in the address: take the pasted link (or just its token) and open it. */
  function startLinkForm() {
    const form = document.getElementById("link-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = document.getElementById("link").value.trim();
      const token = text.split(/[?#]/)[0].split("/").filter(Boolean).pop() || "";
      if (token) window.location.assign(`/web/join/${encodeURIComponent(token)}`);
    });
    document.body.dataset.ready = "1";
  }

  if (!root) {
    startLinkForm();
    return;
  }
  document.getElementById("signup-form").addEventListener("submit", submit);
  setInterval(tick, 1000);
  start();
})();
