// Driver page: today's route sheets and stop reports that survive a dropped connection.
//
// Pressing "arrived", "delivered" or "failed" puts one report per delivery of the stop into an
// outbox kept in localStorage, each with its own key made at that moment (sent as the report's
// event_id and as Idempotency-Key). The outbox is sent in order now, on the browser's "online"
// event and every few seconds; a report whose answer was lost is sent again with the same key,
// which the API stores once. Only an answer from the API takes a report out of the outbox.
"use strict";

(() => {
  const { t, el, api } = Linli;
  const OUTBOX = "linli.driver.outbox";
  const REJECTED = "linli.driver.rejected";
  const RETRY_MS = 4000;
  let sheets = [];
  let events = [];
  let sending = false;
  let offline = !navigator.onLine;

  function load(key) {
    try {
      return JSON.parse(localStorage.getItem(key) || "[]");
    } catch (e) {
      return [];
    }
  }

  function save(key, items) {
    localStorage.setItem(key, JSON.stringify(items));
  }

  function stopKey(jobId, stop) {
    return `${jobId}|${stop.sequence}`;
  }

  /** Delivery ids of a sheet stop and the units each carries (from the sheet's line; an even
   *  split only for sheets made before lines listed units per delivery). */
  function deliveries(stop) {
    const out = [];
    for (const line of stop.unload) {
      const ids = line.delivery_ids;
      if (line.delivery_units && line.delivery_units.length === ids.length) {
        ids.forEach((id, i) => out.push({ id, units: line.delivery_units[i] }));
        continue;
      }
      const share = Math.floor(line.units / ids.length);
      ids.forEach((id, i) => out.push({ id, units: share + (i < line.units - share * ids.length ? 1 : 0) }));
    }
    return out;
  }

  /** Queue one report per delivery of ``stop`` and try to send them. */
  function report(jobId, stop, statusName, reason) {
    const outbox = load(OUTBOX);
    const at = new Date().toISOString();
    for (const delivery of deliveries(stop)) {
      const body = { event_id: Linli.newKey(), status: statusName, at };
      if (statusName === "delivered") body.quantity_units = delivery.units;
      if (statusName === "failed") body.reason = reason;
      outbox.push({
        key: body.event_id,
        stop: stopKey(jobId, stop),
        url: `/plans/${encodeURIComponent(jobId)}/stops/${encodeURIComponent(delivery.id)}/events`,
        body,
      });
    }
    save(OUTBOX, outbox);
    render();
    flush();
  }

  /** Send the outbox in order; stop at the first network failure and try again later. */
  async function flush() {
    if (sending) return;
    sending = true;
    try {
      for (;;) {
        const outbox = load(OUTBOX);
        if (!outbox.length) break;
        const item = outbox[0];
        let reply;
        try {
          reply = await fetch(item.url, {
            method: "POST",
            headers: {
              "Content-Type": "application/json",
              Accept: "application/json",
              Authorization: `Bearer ${Linli.token()}`,
              "Idempotency-Key": item.key,
            },
            body: JSON.stringify(item.body),
          });
        } catch (error) {
          offline = true;
          break; // no answer: keep the report, send it again later with the same key
        }
        offline = false;
        if (reply.status === 401 || reply.status === 408 || reply.status === 429 || reply.status >= 500) {
          if (reply.status === 401) Linli.status(t("need_login"), "error");
          break;
        }
        const data = await reply.json().catch(() => ({}));
        const rest = load(OUTBOX).filter((x) => x.key !== item.key);
        save(OUTBOX, rest);
        if (reply.ok) {
          events = events.filter((e) => e.event_id !== data.event_id).concat([data]);
        } else {
          const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail ?? data);
          save(REJECTED, load(REJECTED).concat([{ ...item, detail }]));
        }
        render();
      }
    } finally {
      sending = false;
      render();
    }
  }

  function stopState(jobId, stop) {
    const key = stopKey(jobId, stop);
    const ids = new Set(stop.unload.flatMap((line) => line.delivery_ids));
    const queued = load(OUTBOX).filter((item) => item.stop === key);
    const rejected = load(REJECTED).filter((item) => item.stop === key);
    const mine = events.filter((e) => e.job_id === jobId && ids.has(e.delivery_id));
    return { queued, rejected, recorded: mine };
  }

  function statusLine(state) {
    if (state.queued.length) {
      const what = t(state.queued[state.queued.length - 1].body.status);
      return { text: `${what}: ${t("status_queued")}`, kind: "queued" };
    }
    if (state.recorded.length) {
      const last = state.recorded[state.recorded.length - 1];
      const reason = last.reason ? ` (${last.reason})` : "";
      return { text: `${t(last.status)}${reason}: ${t("status_recorded")} ${Linli.time(last.at)}`, kind: "ok" };
    }
    if (state.rejected.length) {
      const last = state.rejected[state.rejected.length - 1];
      return { text: `${t(last.body.status)}: ${t("status_rejected")}${last.detail}`, kind: "bad" };
    }
    return { text: "", kind: "" };
  }

  function askReason() {
    const dialog = document.getElementById("fail-dialog");
    const input = document.getElementById("fail-reason");
    const problem = document.getElementById("fail-error");
    input.value = "";
    problem.textContent = "";
    return new Promise((resolve) => {
      const form = dialog.querySelector("form");
      function onSubmit(event) {
        if (event.submitter && event.submitter.value === "ok" && !input.value.trim()) {
          event.preventDefault();
          problem.textContent = t("need_reason");
          input.focus();
        }
      }
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("close", () => {
        form.removeEventListener("submit", onSubmit);
        resolve(dialog.returnValue === "ok" ? input.value.trim() : null);
      }, { once: true });
      dialog.returnValue = "";
      dialog.showModal();
      input.focus();
    });
  }

  function stopItem(jobId, stop) {
    const state = stopState(jobId, stop);
    const line = statusLine(state);
    const done = new Set([...state.recorded.map((e) => e.status), ...state.queued.map((q) => q.body.status)]);
    const place = `${stop.compound_name} ${stop.gate_name}`;
    const geo = `geo:${stop.gate_lat},${stop.gate_lon}?q=${stop.gate_lat},${stop.gate_lon}(${encodeURIComponent(place)})`;
    const headingId = `stop-${jobId}-${stop.sequence}`;
    const unload = el("ul", {}, stop.unload.map((u) => {
      Linli.learnCategory(u.category);
      const parts = u.buildings.map((b) => `${b.building_name} ${b.units}`);
      if (u.unsorted_units) parts.push(`${t("unsorted")} ${u.unsorted_units}`);
      return el("li", {}, `${Linli.categoryName(u.category.category_id)} × ${u.units} ${u.category.unit}`,
        parts.length ? ` (${parts.join(", ")})` : "");
    }));
    const button = (name) => el("button", {
      type: "button",
      class: name === "failed" ? "secondary" : null,
      "data-action": name,
      disabled: done.has(name),
      "aria-describedby": headingId,
      onclick: async () => {
        if (name === "failed") {
          const reason = await askReason();
          if (reason) report(jobId, stop, name, reason);
        } else {
          report(jobId, stop, name, "");
        }
      },
    }, t(name));
    return el("li", { class: `stop${done.has("delivered") ? " done" : ""}`, "data-sequence": stop.sequence },
      el("h3", { id: headingId }, `${t("stop", { n: stop.sequence })} · ${stop.compound_name}`),
      el("dl", { class: "facts" },
        el("dt", { text: t("gate") }), el("dd", { text: stop.gate_name }),
        el("dt", { text: t("window") }), el("dd", { text: `${Linli.time(stop.window_start)}–${Linli.time(stop.window_end)}` }),
        el("dt", { text: t("eta") }), el("dd", { text: Linli.time(stop.arrival) }),
        el("dt", { text: t("units") }), el("dd", { text: `${stop.units} (${stop.weight_kg} kg)` }),
        el("dt", { text: t("contact") }), el("dd", { text: stop.gate_contact_role }),
        el("dt", { text: t("unload") }), el("dd", {}, unload)),
      el("a", { class: "button secondary nav-link", href: geo }, t("navigate", { place })),
      el("div", { class: "stop-buttons", role: "group", "aria-labelledby": headingId },
        ["arrived", "delivered", "failed"].map(button)),
      el("p", { class: `stop-status ${line.kind}`, role: "status" }, line.text));
  }

  function sheetSection(view) {
    const sheet = view.sheet;
    const facts = el("dl", { class: "facts" },
      el("dt", { text: t("depot") }), el("dd", { text: sheet.depot_name }),
      el("dt", { text: t("shift") }), el("dd", { text: `${Linli.time(sheet.start)}–${Linli.time(sheet.end)}` }),
      el("dt", { text: t("driver_test") }), el("dd", { text: Linli.dateTime(sheet.driver_test_valid_until) || "—" }),
      el("dt", { text: t("vehicle_pass") }), el("dd", { text: Linli.dateTime(sheet.vehicle_pass_valid_until) || "—" }));
    return el("section", { class: "sheet", "aria-label": `${t("vehicle")} ${sheet.plate}` },
      el("h2", {}, `${t("vehicle")} ${sheet.plate} · ${sheet.driver_name}`),
      facts,
      el("ol", { class: "stops" }, sheet.stops.map((stop) => stopItem(view.job_id, stop))));
  }

  function render() {
    const outbox = load(OUTBOX);
    document.getElementById("offline").hidden = !(offline || !navigator.onLine);
    document.getElementById("outbox").textContent = outbox.length ? t("outbox", { n: outbox.length }) : "";
    const root = document.getElementById("sheets");
    const focused = document.activeElement;
    const focusKey = focused && focused.closest && focused.closest("li.stop")
      ? [focused.closest("li.stop").dataset.sequence, focused.dataset.action] : null;
    root.replaceChildren(...sheets.map(sheetSection));
    if (!sheets.length && root.dataset.loaded) root.append(el("p", { text: t("no_route") }));
    if (focusKey) {
      const again = root.querySelector(`li.stop[data-sequence="${focusKey[0]}"] [data-action="${focusKey[1]}"]`);
      const target = again && !again.disabled ? again : root.querySelector(`li.stop[data-sequence="${focusKey[0]}"] a.nav-link`);
      if (target) target.focus();
    }
  }

  async function start() {
    if (!Linli.requireRole()) return;
    Linli.status(t("loading"));
    const cacheKey = `linli.driver.sheets.${Linli.deliveryDate()}`;
    try {
      sheets = await api(`/route-sheets/mine?delivery_date=${encodeURIComponent(Linli.deliveryDate())}`);
      localStorage.setItem(cacheKey, JSON.stringify(sheets));
      const jobs = [...new Set(sheets.map((s) => s.job_id))];
      events = (await Promise.all(jobs.map((job) => api(`/plans/${encodeURIComponent(job)}/stops/events`)))).flat();
      Linli.status("");
    } catch (error) {
      if (error instanceof Linli.ApiError && error.status === 404) {
        Linli.status(t("no_plan"));
      } else {
        sheets = sheets.length ? sheets : JSON.parse(localStorage.getItem(cacheKey) || "[]");
        offline = !(error instanceof Linli.ApiError);
        Linli.status(Linli.errorText(error), "error");
      }
    }
    document.getElementById("sheets").dataset.loaded = "1";
    render();
    document.body.dataset.ready = "1";
    flush();
  }

  window.addEventListener("online", () => { offline = false; render(); flush(); });
  window.addEventListener("offline", () => { offline = true; render(); });
  setInterval(() => { if (load(OUTBOX).length) flush(); }, RETRY_MS);
  start();
})();
