// Building volunteer's page: the day's hand-out sheet of their own building (rooms, packages,
// door-delivery rooms marked; never names or reasons, as the API sends none) and, per
// delivery, three big buttons to record received → disinfected → handed out. The API keeps
// the order and refuses a step out of turn; its message is shown under the buttons.
"use strict";

(() => {
  const { t, el, api, table } = Linli;
  const STEPS = ["received", "disinfected", "handed_out"];
  let who = null;
  let sheet = null;
  const messages = {};
  let sending = false;

  function sheetPath(suffix = "") {
    const base = `/compounds/${encodeURIComponent(who.compound_id)}/buildings/${encodeURIComponent(who.building_id)}/handout`;
    return `${base}${suffix}?${new URLSearchParams({ date: Linli.deliveryDate() })}`;
  }

  async function record(delivery, step) {
    if (sending) return;
    sending = true;
    messages[delivery.delivery_key] = { text: t("loading"), kind: "" };
    render();
    try {
      sheet = await api(sheetPath("/steps"), {
        json: { step, at: new Date().toISOString(), delivery_key: delivery.delivery_key },
      });
      messages[delivery.delivery_key] = { text: `${t(`step_${step}`)}: ${t("status_recorded")}`, kind: "ok" };
    } catch (error) {
      const order = error instanceof Linli.ApiError && error.body && error.body.error === "out_of_order";
      messages[delivery.delivery_key] = { text: `${order ? t("step_out_of_order") : ""}${Linli.errorText(error)}`, kind: "bad" };
    } finally {
      sending = false;
      render(`${delivery.delivery_key}|${step}`);
    }
  }

  function deliveryCard(delivery, index) {
    const done = new Map(delivery.steps.map((s) => [s.step, s]));
    const headingId = `delivery-${index}`;
    const message = messages[delivery.delivery_key] || { text: "", kind: "" };
    const finished = delivery.next_step === null;
    return el("article", { class: `card delivery${finished ? " finished" : ""}`, "data-delivery": delivery.delivery_key, "aria-labelledby": headingId },
      el("h3", { id: headingId, text: delivery.label }),
      el("p", { class: "headline step-progress" }, finished
        ? t("steps_finished")
        : t("steps_progress", { done: done.size, total: STEPS.length, next: t(`step_${delivery.next_step}`) })),
      el("ol", { class: "steps" }, STEPS.map((step) => {
        const entry = done.get(step);
        return el("li", {}, entry
          ? `✓ ${t(`step_${step}`)} · ${Linli.time(entry.at)} · ${entry.recorded_by}`
          : `○ ${t(`step_${step}`)}`);
      })),
      el("div", { class: "step-buttons", role: "group", "aria-labelledby": headingId },
        STEPS.map((step, i) => el("button", {
          type: "button",
          class: done.has(step) ? "done" : (delivery.next_step === step ? "next" : "secondary"),
          "data-step": step,
          "data-key": `${delivery.delivery_key}|${step}`,
          "aria-describedby": headingId,
          disabled: done.has(step),
          onclick: () => record(delivery, step),
        }, `${i + 1}. ${t(`step_button_${step}`)}`))),
      el("p", { class: `step-status ${message.kind}`, role: "status" }, message.text));
  }

  function render(focusKey) {
    const root = document.getElementById("sheet");
    const banner = document.getElementById("sealed");
    if (!sheet) return;
    banner.hidden = !sheet.sealed;
    banner.textContent = sheet.sealed ? t("sealed_banner") : "";
    const notes = Linli.lang === "zh" ? sheet.notes_zh : sheet.notes_en;
    const slot = sheet.slot_start ? `${Linli.time(sheet.slot_start)}–${Linli.time(sheet.slot_end)}` : t("slot_unplanned");
    const rooms = sheet.rooms.length
      ? table(t("rooms_caption", { building: sheet.building_name, date: sheet.delivery_date }),
        [t("room"), t("packages"), t("units"), t("door_delivery")],
        sheet.rooms.map((room) => [el("span", { class: "nowrap" }, room.room),
          room.items.map((item) => `${item.package} × ${item.units}`).join("; "),
          Linli.number(room.units),
          room.door_delivery ? el("span", { class: "door" }, t("door_yes")) : t("door_no")]), [2])
      : el("p", { text: t("no_handout") });
    const totals = sheet.totals.length
      ? table(t("totals_caption"), [t("packages"), t("units"), t("households")],
        sheet.totals.map((x) => [x.package, Linli.number(x.units), Linli.number(x.rooms)]), [1, 2])
      : "";
    root.replaceChildren(
      el("h2", {}, `${sheet.building_name} · ${sheet.compound_name}`),
      el("dl", { class: "facts" },
        el("dt", { text: t("date_label") }), el("dd", { text: sheet.delivery_date }),
        el("dt", { text: t("handout_slot") }), el("dd", { text: slot }),
        el("dt", { text: t("units") }), el("dd", { text: Linli.number(sheet.units) }),
        el("dt", { text: t("door_rooms") }), el("dd", { text: Linli.number(sheet.door_rooms) })),
      el("ul", {}, notes.map((n) => el("li", { text: n }))),
      el("section", { "aria-labelledby": "steps-title" },
        el("h2", { id: "steps-title", text: t("handout_steps_title") }),
        sheet.deliveries.length ? sheet.deliveries.map(deliveryCard) : el("p", { text: t("no_handout") })),
      el("section", { "aria-labelledby": "rooms-title" },
        el("h2", { id: "rooms-title", text: t("handout_rooms_title") }), rooms, totals));
    if (focusKey) {
      const again = root.querySelector(`button[data-key="${CSS.escape(focusKey)}"]`);
      const target = again && !again.disabled ? again : root.querySelector(`button[data-key^="${CSS.escape(focusKey.split("|")[0])}|"]:not(:disabled)`);
      if (target) target.focus();
    }
  }

  async function start() {
    who = Linli.requireRole();
    if (!who) {
      document.body.dataset.ready = "1";
      return;
    }
    Linli.status(t("loading"));
    try {
      sheet = await api(sheetPath());
      Linli.status("");
      render();
    } catch (error) {
      document.getElementById("sheet").replaceChildren();
      Linli.status(Linli.errorText(error), "error");
    }
    document.body.dataset.ready = "1";
  }

  start();
})();
