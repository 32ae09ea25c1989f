// Leader page: the compound's demand, 接龙 import, groups with a countdown to each deadline,
// supplier match with its explanation, delivery window, sorting list and pickup notices.
"use strict";

(() => {
  const { t, el, api, table } = Linli;
  let compound = "";
  let day = "";
  let importKey = null;
  let importText = "";
  let sortingText = "";

  function q(path, params) {
    return `${path}?${new URLSearchParams(params)}`;
  }

  function failInto(id, error) {
    const node = document.getElementById(id);
    const text = error instanceof Linli.ApiError && error.status === 404 ? t("no_plan") : Linli.errorText(error);
    node.replaceChildren(el("p", { class: error instanceof Linli.ApiError && error.status === 404 ? "note" : "error", text }));
  }

  async function loadDemand() {
    try {
      const page = await api(q("/demand", { delivery_date: day, level: "building", compound_id: compound, limit: 5000 }));
      const rows = page.items.map((line) => [
        line.building_id || "—", Linli.categoryName(line.category_id), Linli.number(line.quantity_units),
        Linli.number(line.households), line.priority_quantity_units ?? "—",
      ]);
      rows.push([t("total"), "", Linli.number(page.total_units), "", ""]);
      const node = document.getElementById("demand");
      node.replaceChildren(page.items.length
        ? table(`${t("demand_title")} · ${page.items[0]?.compound_name ?? compound} · ${day}`,
          [t("building"), t("category"), t("units"), t("households"), t("priority")], rows, [2, 3, 4])
        : el("p", { text: t("none") }));
    } catch (error) {
      failInto("demand", error);
    }
  }

  async function importJielong(event) {
    event.preventDefault();
    const text = document.getElementById("jielong").value;
    const result = document.getElementById("import-result");
    if (!text.trim()) return;
    if (text !== importText || !importKey) {
      importKey = Linli.newKey(); // one key per paste: a retry after a lost answer imports once
      importText = text;
    }
    result.textContent = t("loading");
    result.className = "";
    try {
      const summary = await api(`/compounds/${encodeURIComponent(compound)}/orders`, {
        method: "POST", form: { text, delivery_date: day }, headers: { "Idempotency-Key": importKey },
      });
      result.textContent = t("import_done", summary);
      importKey = null;
      await loadDemand();
    } catch (error) {
      if (error instanceof Linli.ApiError) importKey = null;
      result.textContent = Linli.errorText(error);
      result.className = "error";
    }
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
    for (const cell of document.querySelectorAll("[data-deadline]")) {
      cell.textContent = countdown(cell.dataset.deadline);
    }
  }

  async function loadGroups() {
    try {
      const groups = await api(`/compounds/${encodeURIComponent(compound)}/groups`);
      const rows = groups.map(({ group, ledger_path }) => [
        Linli.categoryName(group.category_id), Linli.number(group.threshold_units),
        Linli.number(group.committed_units), group.state, Linli.dateTime(group.deadline),
        el("span", { class: "countdown", "data-deadline": group.deadline }, countdown(group.deadline)),
        el("a", { href: ledger_path }, t("ledger")),
      ]);
      document.getElementById("groups").replaceChildren(groups.length
        ? table(t("groups_title"), [t("category"), t("threshold"), t("committed"), t("state"), t("deadline"), t("countdown"), t("ledger")], rows, [1, 2])
        : el("p", { text: t("none") }));
    } catch (error) {
      failInto("groups", error);
    }
  }

  function renderAllocation(view) {
    const root = document.getElementById("allocation");
    const lines = table(t("served"), [t("supplier"), t("category"), t("units")],
      view.lines.map((x) => [x.supplier_id, Linli.categoryName(x.category_id), Linli.number(x.quantity_units)]), [2]);
    const unmet = view.unmet.length
      ? table(t("unmet"), [t("category"), t("units"), t("explanation")],
        view.unmet.map((x) => [Linli.categoryName(x.category_id), Linli.number(x.quantity_units), x.reason]), [1])
      : null;
    const decisions = el("div", { class: "decisions" }, el("h3", { text: t("explanation") }), view.decisions.map((d) => el("div", { class: "card" },
      el("p", { class: "headline" }, Linli.pick(d.headline)),
      el("p", {}, `${t("demand_units")} ${d.demand_units} · ${t("served")} ${d.served_units}`),
      el("ul", {}, d.suppliers.map((s) => el("li", {}, Linli.pick(s.text))), d.others.map((o) => el("li", {}, Linli.pick(o.text)))))));
    root.replaceChildren(lines, unmet || "", decisions);
  }

  async function showMatch(jobId) {
    try {
      renderAllocation(await api(`/match/${encodeURIComponent(jobId)}/allocation`));
    } catch (error) {
      failInto("allocation", error);
    }
  }

  async function requestMatch() {
    const button = document.getElementById("match-button");
    const line = document.getElementById("match-job");
    button.disabled = true;
    try {
      const job = await api("/match", { method: "POST", json: { delivery_date: day } });
      const done = await Linli.waitForJob(job.job_id, (j) => { line.textContent = Linli.jobText(j); });
      if (done.status === "succeeded") await showMatch(done.job_id);
    } catch (error) {
      line.textContent = Linli.errorText(error);
    } finally {
      button.disabled = false;
    }
  }

  async function latestMatch() {
    try {
      const jobs = await api(q("/jobs", { status: "succeeded", limit: 50 }));
      const match = jobs.find((j) => j.kind === "match" && j.delivery_date === day);
      if (match) {
        document.getElementById("match-job").textContent = Linli.jobText(match);
        await showMatch(match.job_id);
      }
    } catch (error) {
      document.getElementById("match-job").textContent = Linli.errorText(error);
    }
  }

  async function loadWindow() {
    const root = document.getElementById("window");
    try {
      const [place, gates] = await Promise.all([
        api(`/compounds/${encodeURIComponent(compound)}`),
        api(`/compounds/${encodeURIComponent(compound)}/gates`),
      ]);
      const hours = (h) => `${h.opens_at.slice(0, 5)}–${h.closes_at.slice(0, 5)}`;
      const facts = el("dl", { class: "facts" },
        el("dt", { text: t("compound") }), el("dd", { text: place.name }),
        el("dt", { text: t("receiving_hours") }), el("dd", { text: hours(place.receiving_hours) }),
        gates.map((g) => [el("dt", { text: `${t("gate")} ${g.name}` }), el("dd", { text: hours(g.receiving_hours) })]));
      root.replaceChildren(facts);
      try {
        const sorting = await api(q(`/compounds/${encodeURIComponent(compound)}/sorting-list`, { delivery_date: day }));
        const list = sorting.kind === "leader" ? sorting.sorting_list : sorting;
        list.categories.forEach((c) => Linli.learnCategory(c.category));
        root.append(table(t("arrivals"), [t("eta"), t("gate"), t("vehicle"), t("category"), t("units")],
          list.arrivals.map((a) => [Linli.time(a.arrival), a.gate_name, a.plate, Linli.categoryName(a.category_id), a.units]), [4]));
      } catch (error) {
        root.append(el("p", { class: "note", text: error instanceof Linli.ApiError && error.status === 404 ? t("no_plan") : Linli.errorText(error) }));
      }
    } catch (error) {
      failInto("window", error);
    }
  }

  async function openSorting() {
    const root = document.getElementById("sorting");
    root.replaceChildren(el("p", { text: t("loading") }));
    try {
      const reply = await api(q(`/compounds/${encodeURIComponent(compound)}/sorting-list`, { delivery_date: day }));
      const list = reply.kind === "leader" ? reply.sorting_list : reply;
      list.categories.forEach((c) => Linli.learnCategory(c.category));
      const categories = table(`${t("sorting_title")} · ${list.compound_name} · ${list.delivery_date}`,
        [t("category"), t("ordered"), t("arriving"), t("short")],
        list.categories.map((c) => [Linli.categoryName(c.category.category_id), c.ordered_units, c.delivered_units, c.short_units]), [1, 2, 3]);
      const buildings = table(t("building"), [t("building"), t("category"), t("ordered"), t("arriving")],
        list.buildings.flatMap((b) => b.lines.map((l) => [b.building_name, Linli.categoryName(l.category_id), l.ordered_units, l.units])), [2, 3]);
      const parts = [categories, buildings];
      const lines = [`${t("sorting_title")} ${list.compound_name} ${list.delivery_date}`];
      for (const b of list.buildings) {
        lines.push(`${b.building_name}: ${b.lines.map((l) => `${Linli.categoryName(l.category_id)} ${l.units}`).join("，")}`);
      }
      if (reply.kind === "leader") {
        parts.push(table(t("household_lines"), [t("building"), t("room"), t("name"), t("phone"), t("category"), t("ordered"), t("arriving"), t("proxy")],
          reply.households.map((h) => [h.building_name, h.room, h.household_name, h.phone, Linli.categoryName(h.category_id),
            h.ordered_units, h.units, h.proxy ? t("proxy") : ""]), [5, 6]));
      }
      const notes = Linli.lang === "zh" ? list.notes_zh : list.notes_en;
      if (notes.length) parts.push(el("ul", {}, notes.map((n) => el("li", { text: n }))));
      sortingText = lines.join("\n");
      root.replaceChildren(...parts);
    } catch (error) {
      failInto("sorting", error);
    }
  }

  async function openNotices() {
    const root = document.getElementById("notices");
    root.replaceChildren(el("p", { text: t("loading") }));
    try {
      const notices = await api(q(`/compounds/${encodeURIComponent(compound)}/notices`, { delivery_date: day }));
      root.replaceChildren(...notices.map((n) => {
        const message = Linli.lang === "zh" ? n.message_zh : n.message_en;
        const copyButton = el("button", { type: "button", class: "secondary" }, `${t("copy")} · ${n.building_name}`);
        copyButton.addEventListener("click", () => Linli.copy(message, copyButton));
        return el("article", { class: "notice", "aria-label": `${t("notices_title")} ${n.building_name}` },
          el("h3", {}, `${n.compound_name} ${n.building_name}`),
          el("p", { class: "headline" }, `${t("slot")}: ${Linli.time(n.slot_start)}–${Linli.time(n.slot_end)}`),
          el("p", { class: "headline" }, `${t("pickup_point")}: ${n.pickup_point}`),
          el("pre", { text: message }),
          el("div", { class: "actions" }, copyButton));
      }));
      if (!notices.length) root.replaceChildren(el("p", { text: t("none") }));
    } catch (error) {
      failInto("notices", error);
    }
  }

  function start() {
    const who = Linli.requireRole();
    if (!who) return;
    compound = who.compound_id;
    day = Linli.deliveryDate();
    document.getElementById("import-form").addEventListener("submit", importJielong);
    document.getElementById("match-button").addEventListener("click", requestMatch);
    document.getElementById("sorting-button").addEventListener("click", openSorting);
    document.getElementById("notices-button").addEventListener("click", openNotices);
    const copyButton = document.getElementById("sorting-copy");
    copyButton.addEventListener("click", () => Linli.copy(sortingText, copyButton));
    setInterval(tick, 1000);
    // the window's sorting list names the categories, so the demand table loads after it
    Promise.all([loadWindow().then(loadDemand), loadGroups(), latestMatch()]).then(() => {
      document.body.dataset.ready = "1";
    });
  }

  start();
})();
