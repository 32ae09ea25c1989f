// Dispatcher page: plan status (match and plan jobs), demand in the service area as a table
// and a map, and the supplier's route sheets ready to print.
"use strict";

(() => {
  const { t, el, api, table } = Linli;
  let day = "";
  let mapView = null;

  function q(path, params) {
    return `${path}?${new URLSearchParams(params)}`;
  }

  function say(id, error) {
    const missing = error instanceof Linli.ApiError && error.status === 404;
    document.getElementById(id).replaceChildren(el("p", { class: missing ? "note" : "error", text: missing ? t("no_plan") : Linli.errorText(error) }));
  }

  async function loadJobs() {
    try {
      const jobs = (await api(q("/jobs", { limit: 50 }))).filter((j) => j.delivery_date === day);
      document.getElementById("jobs").replaceChildren(jobs.length
        ? table(t("my_jobs"), [t("job"), t("kind"), t("state"), t("progress"), t("when")],
          jobs.map((j) => [j.job_id, j.kind, `${t(`job_${j.status}`)}${j.error ? ` — ${j.error}` : ""}`, `${j.progress}%`, Linli.dateTime(j.finished_at || j.created_at)]), [3])
        : "");
    } catch (error) {
      say("jobs", error);
    }
  }

  async function submit(path, button) {
    const line = document.getElementById("job-progress");
    button.disabled = true;
    try {
      const job = await api(path, { method: "POST", json: { delivery_date: day } });
      await Linli.waitForJob(job.job_id, (j) => { line.textContent = Linli.jobText(j); });
      await loadJobs();
      await loadSheets();
    } catch (error) {
      line.textContent = Linli.errorText(error);
    } finally {
      button.disabled = false;
    }
  }

  async function allCompounds() {
    const found = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await api(q("/compounds", { offset, limit: 1000 }));
      found.push(...page.items);
      if (found.length >= page.total || !page.items.length) return found;
    }
  }

  async function loadDemand() {
    try {
      const page = await api(q("/demand", { delivery_date: day, level: "compound", limit: 5000 }));
      const rows = page.items.map((x) => [x.compound_name, x.district, Linli.categoryName(x.category_id), Linli.number(x.quantity_units), Linli.number(x.households), x.priority_quantity_units ?? "—"]);
      rows.push([t("total"), "", "", Linli.number(page.total_units), "", ""]);
      document.getElementById("demand").replaceChildren(page.items.length
        ? table(`${t("area_demand_title")} · ${day}`, [t("compound"), t("district"), t("category"), t("units"), t("households"), t("priority")], rows, [3, 4, 5])
        : el("p", { text: t("none") }));
      if (mapView && page.items.length) {
        const units = {};
        for (const x of page.items) units[x.compound_id] = (units[x.compound_id] || 0) + x.quantity_units;
        const places = (await allCompounds()).filter((c) => units[c.compound_id]);
        mapView.addDemand(places.map((c) => ({ lon: c.lon, lat: c.lat, name: c.name, units: units[c.compound_id] })));
        mapView.fit();
      }
    } catch (error) {
      say("demand", error);
    }
  }

  function sheetBlock(sheet) {
    const rows = sheet.stops.map((s) => {
      s.unload.forEach((u) => Linli.learnCategory(u.category));
      return [s.sequence, `${s.compound_name} ${s.gate_name}`, `${Linli.time(s.window_start)}–${Linli.time(s.window_end)}`, Linli.time(s.arrival),
        s.unload.map((u) => `${Linli.categoryName(u.category.category_id)} ${u.units}`).join("，"), s.units];
    });
    return el("article", { class: "card" },
      el("h3", {}, `${t("vehicle")} ${sheet.plate} · ${sheet.driver_name || "—"}`),
      el("dl", { class: "facts" },
        el("dt", { text: t("depot") }), el("dd", { text: sheet.depot_name }),
        el("dt", { text: t("shift") }), el("dd", { text: `${Linli.time(sheet.start)}–${Linli.time(sheet.end)}` }),
        el("dt", { text: t("distance") }), el("dd", { text: `${(sheet.distance_m / 1000).toFixed(1)} km` }),
        el("dt", { text: t("driver_test") }), el("dd", { text: Linli.dateTime(sheet.driver_test_valid_until) || "—" }),
        el("dt", { text: t("vehicle_pass") }), el("dd", { text: Linli.dateTime(sheet.vehicle_pass_valid_until) || "—" })),
      table(`${sheet.plate} · ${sheet.delivery_date}`, ["#", t("gate"), t("window"), t("eta"), t("unload"), t("units")], rows, [0, 5]));
  }

  /** The current plan of the day (the jobs behind the sheets): routes, distance, checker. */
  async function loadPlans(views) {
    const ids = [...new Set(views.map((v) => v.job_id))];
    const plans = await Promise.all(ids.map((id) => api(`/plans/${encodeURIComponent(id)}`)));
    const rows = plans.map((p) => [p.job_id, p.routes.length, `${(p.distance_m / 1000).toFixed(1)} km`, p.unassigned.length,
      p.not_routable.length, p.violations.length ? p.violations.join("; ") : "✓"]);
    document.getElementById("plans").replaceChildren(plans.length
      ? table(t("current_plan"), [t("job"), t("routes"), t("distance"), t("unassigned"), t("not_routable"), t("checker")], rows, [1, 2, 3, 4])
      : el("p", { text: t("no_plan") }));
  }

  async function loadSheets() {
    try {
      const views = await api(q("/route-sheets", { delivery_date: day }));
      await loadPlans(views);
      const sheets = views.map((v) => v.sheet);
      document.getElementById("sheets").replaceChildren(...(sheets.length ? sheets.map(sheetBlock) : [el("p", { text: t("none") })]));
      if (mapView) {
        mapView.addRoutes(sheets);
        mapView.fit();
      }
    } catch (error) {
      say("sheets", error);
      say("plans", error);
    }
  }

  async function start() {
    if (!Linli.requireRole()) return;
    day = Linli.deliveryDate();
    const matchButton = document.getElementById("match-button");
    const planButton = document.getElementById("plan-button");
    matchButton.addEventListener("click", () => submit("/match", matchButton));
    planButton.addEventListener("click", () => submit("/plans", planButton));
    mapView = await LinliMap.create();
    await Promise.all([loadJobs(), loadSheets().then(loadDemand)]); // sheets name the categories
    document.body.dataset.ready = "1";
  }

  start();
})();
