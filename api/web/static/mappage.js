// Map page: the day's routes of the signed-in dispatcher's supplier (an admin: all; a driver:
// their own), coloured per vehicle over the boundaries and roads.
"use strict";

(async () => {
  const who = Linli.requireRole();
  if (!who) return;
  const day = encodeURIComponent(Linli.deliveryDate());
  const map = await LinliMap.create();
  let sheets = [];
  try {
    const path = who.role === "driver" ? `/route-sheets/mine?delivery_date=${day}` : `/route-sheets?delivery_date=${day}`;
    sheets = (await Linli.api(path)).map((view) => view.sheet);
  } catch (error) {
    Linli.status(error instanceof Linli.ApiError && error.status === 404 ? Linli.t("no_plan") : Linli.errorText(error),
      error instanceof Linli.ApiError && error.status === 404 ? "" : "error");
  }
  const entries = map ? map.addRoutes(sheets) : sheets.map((s, i) => ({ plate: s.plate, vehicle_id: s.vehicle_id, colour: LinliMap.colour(i), stops: s.stops.length }));
  if (map) map.fit();
  const legend = document.getElementById("legend");
  legend.replaceChildren(...LinliMap.legend(entries));
  if (!entries.length) legend.append(Linli.el("li", { text: Linli.t("none") }));
  document.body.dataset.ready = "1";
})();
