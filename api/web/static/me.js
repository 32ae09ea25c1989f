// Resident self-check page (no sign-in): the household's own line by its code — package,
// units, amount due, paid / unpaid / refunded, the group's state and history — and its
// claims, with a form to claim on a delivered line and to appeal a rejected claim. Everything
// comes from /resident/{code}, which answers for this one household only.
"use strict";

(() => {
  const { t, el, api } = Linli;
  const root = document.getElementById("me");
  const CLAIMABLE = ["dispatched", "delivered", "settled"];
  const OPEN_CLAIM = ["filed", "rejected", "escalated"];
  let view = null;
  let sending = false;

  function yuan(cents) {
    return `¥${(cents / 100).toFixed(2)}`;
  }

  function path(suffix = "") {
    return `/resident/${encodeURIComponent(root.dataset.code)}${suffix}`;
  }

  function facts(pairs) {
    return el("dl", { class: "facts" }, pairs.filter(Boolean).map(([term, value]) => [el("dt", { text: term }), el("dd", {}, value)]));
  }

  function renderLine() {
    const payments = view.payments.length
      ? Linli.table(t("payments_title"), [t("when"), t("kind"), t("amount"), t("method")],
        view.payments.map((p) => [Linli.dateTime(p.at), t(`payment_kind_${p.kind}`), yuan(p.amount_cents), p.method]), [2])
      : el("p", { class: "note", text: t("no_payments") });
    const others = view.other_lines.length
      ? el("div", {}, el("h3", { text: t("other_lines") }), el("ul", {}, view.other_lines.map((o) => el("li", {},
        el("a", { href: `/web/me/${encodeURIComponent(o.resident_code)}` }, `${o.package_name} × ${o.quantity_units}`),
        ` · ${t(`line_state_${o.state}`)}`))))
      : "";
    document.getElementById("line").replaceChildren(
      facts([
        [t("package"), view.package_name || "—"],
        [t("room"), `${view.room} (${view.building_id})`],
        view.household_name ? [t("name"), view.household_name] : null,
        [t("units_packages"), String(view.quantity_units)],
        [t("unit_price"), yuan(view.unit_price_cents)],
        [t("amount_due"), [yuan(view.due_cents), " ", el("span", { class: "note", text: t("due_note") })]],
        [t("paid"), yuan(view.paid_cents)],
        [t("refunded"), yuan(view.refunded_cents)],
        [t("payment_status"), el("span", { class: "state-word", id: "payment-status" }, t(`pay_${view.payment_status}`))],
        [t("line_state"), t(`line_state_${view.line_state}`)],
      ]),
      payments,
      others);
  }

  function renderProgress() {
    const history = el("ol", { class: "history" }, view.history.map((step) => el("li", {},
      el("span", { class: "state-word" }, t(`group_state_${step.to_state}`)), ` · ${Linli.dateTime(step.at)}`,
      Linli.pick({ zh: step.note_zh, en: step.note_en }) ? ` — ${Linli.pick({ zh: step.note_zh, en: step.note_en })}` : "")));
    document.getElementById("progress").replaceChildren(
      facts([
        [t("state"), el("span", { class: "state-word", id: "group-state", "data-state": view.group_state }, t(`group_state_${view.group_state}`))],
        [t("deadline"), Linli.dateTime(view.deadline)],
      ]),
      el("p", { class: "state-note", text: t(`group_note_${view.group_state}`) }),
      el("h3", { text: t("history") }),
      history);
  }

  function resolutionText(resolution) {
    if (!resolution) return "";
    if (resolution.kind === "redelivery") {
      return t("resolution_redelivery", { units: resolution.units, date: resolution.redelivery_date || "" });
    }
    return t(`resolution_${resolution.kind}`, { amount: yuan(resolution.amount_cents) });
  }

  function appealForm(claim) {
    const noteId = `appeal-note-${claim.claim_id}`;
    const errorId = `appeal-error-${claim.claim_id}`;
    const form = el("form", { class: "stack appeal", novalidate: true },
      el("label", { for: noteId, text: t("appeal_note") }),
      el("textarea", { id: noteId, rows: "2", maxlength: "500" }),
      el("button", { type: "submit" }, t("appeal_button")),
      el("p", { class: "error", id: errorId, "aria-live": "assertive" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (sending) return;
      sending = true;
      try {
        await api(path(`/claims/${encodeURIComponent(claim.claim_id)}/appeal`), {
          json: { note: document.getElementById(noteId).value.trim() }, anonymous: true,
        });
        await load();
        Linli.status(t("appeal_done"));
      } catch (error) {
        document.getElementById(errorId).textContent = Linli.errorText(error);
      } finally {
        sending = false;
      }
    });
    return form;
  }

  function claimCard(claim) {
    const due = claim.due_at && OPEN_CLAIM.includes(claim.state)
      ? [t(claim.state === "rejected" ? "appeal_by" : "answer_by"), Linli.dateTime(claim.due_at)] : null;
    const steps = el("ol", { class: "history" }, claim.history.map((step) => el("li", {},
      el("span", { class: "state-word" }, t(`claim_state_${step.to_state}`)), ` · ${Linli.dateTime(step.at)}`,
      step.note ? ` — ${step.note}` : "")));
    return el("article", { class: `card claim ${claim.state}`, "data-claim": claim.claim_id, "aria-labelledby": `claim-${claim.claim_id}` },
      el("h3", { id: `claim-${claim.claim_id}` }, `${t(`claim_kind_${claim.kind}`)} × ${claim.units}`),
      facts([
        [t("state"), el("span", { class: "state-word claim-state" }, t(`claim_state_${claim.state}`))],
        [t("claim_state_note"), t(`claim_note_${claim.state}`)],
        due,
        [t("amount"), yuan(claim.amount_cents)],
        claim.note ? [t("claim_note"), claim.note] : null,
        claim.reason ? [t("reason"), claim.reason] : null,
        claim.resolution ? [t("resolution"), resolutionText(claim.resolution)] : null,
      ]),
      el("details", {}, el("summary", { text: t("history") }), steps),
      claim.state === "rejected" && claim.due_at && new Date(claim.due_at).getTime() > Date.now() ? appealForm(claim) : "");
  }

  function renderClaims(claims) {
    document.getElementById("claims").replaceChildren(claims.length
      ? el("div", {}, claims.map(claimCard))
      : el("p", { class: "note", text: t("no_claims") }));
    const claimable = CLAIMABLE.includes(view.group_state) && view.line_state === "active";
    const form = document.getElementById("claim-form");
    form.hidden = !claimable;
    document.getElementById("claim-units").max = String(view.quantity_units);
    const why = document.getElementById("claim-unavailable");
    why.hidden = claimable;
    why.textContent = claimable ? "" : t(view.line_state === "active" ? "claim_after_delivery" : "claim_not_active");
  }

  async function load() {
    const [line, claims] = await Promise.all([api(path(), { anonymous: true }), api(path("/claims"), { anonymous: true })]);
    view = line;
    renderLine();
    renderProgress();
    renderClaims(claims);
  }

  async function fileClaim(event) {
    event.preventDefault();
    if (sending) return;
    const unitsInput = document.getElementById("claim-units");
    const unitsError = document.getElementById("claim-units-error");
    const problem = document.getElementById("claim-error");
    const units = Number(unitsInput.value);
    unitsError.textContent = "";
    problem.textContent = "";
    unitsInput.removeAttribute("aria-invalid");
    if (!Number.isInteger(units) || units < 1 || units > view.quantity_units) {
      unitsError.textContent = t("claim_units_range", { n: view.quantity_units });
      unitsInput.setAttribute("aria-invalid", "true");
      unitsInput.focus();
      return;
    }
    const kind = document.querySelector("input[name='kind']:checked").value;
    const button = document.getElementById("claim-button");
    sending = true;
    button.disabled = true;
    try {
      await api(path("/claims"), {
        json: { kind, units, note: document.getElementById("claim-note").value.trim() }, anonymous: true,
      });
      document.getElementById("claim-form").reset();
      await load();
      Linli.status(t("claim_done"));
    } catch (error) {
      problem.textContent = Linli.errorText(error);
    } finally {
      sending = false;
      button.disabled = false;
    }
  }

  async function start() {
    Linli.status(t("loading"));
    try {
      await load();
      Linli.status("");
    } catch (error) {
      const unknown = error instanceof Linli.ApiError && error.status === 404;
      Linli.status(unknown ? t("code_unknown") : Linli.errorText(error), "error");
      document.getElementById("line").replaceChildren();
    }
    document.body.dataset.ready = "1";
  }

  /** Without a code in the address: take the typed code and open its page. */
  function startCodeForm() {
    document.getElementById("code-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const code = document.getElementById("code").value.trim().toLowerCase();
      if (code) window.location.assign(`/web/me/${encodeURIComponent(code)}`);
    });
    document.body.dataset.ready = "1";
  }

  if (!root) {
    startCodeForm();
    return;
  }
  document.getElementById("claim-form").addEventListener("submit", fileClaim);
  start();
})();
