// The plan's map without tiles: the server's vector layers (city outline, districts, streets,
// OSM roads where shipped), routes coloured per vehicle and demand circles, drawn by Leaflet
// from the local copy. Without Leaflet the page says so and the lists still work.
"use strict";

const LinliMap = (() => {
  // Okabe–Ito colours: told apart with colour-blindness, dark enough on the pale background
  const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8C6D00", "#000000", "#56B4E9", "#7A3B9A"];
  const STYLE = {
    outline: { color: "#222", weight: 2, fill: true, fillColor: "#f4f1e8", fillOpacity: 0.6 },
    districts: { color: "#555", weight: 1.2, fill: false, dashArray: "6 4" },
    streets: { color: "#888", weight: 0.8, fill: false },
    roads: { color: "#9a9a9a", weight: 1.5 },
  };

  function available() {
    return typeof window.L !== "undefined" && document.getElementById("map") !== null;
  }

  function colour(i) {
    return COLOURS[i % COLOURS.length];
  }

  function say(text) {
    const note = document.getElementById("map-note");
    if (note) {
      note.textContent = text;
      note.hidden = false;
    }
  }

  /** A map in #map with the server's layers, or null (and a sentence) without Leaflet. */
  async function create() {
    if (!available()) {
      if (document.getElementById("map") !== null) say(Linli.t("map_unavailable"));
      return null;
    }
    const map = L.map("map", { preferCanvas: true, zoomSnap: 0.25 }).setView([31.2, 121.5], 10);
    map.attributionControl.setPrefix(false);
    const overlays = {};
    try {
      const layers = await (await fetch("/web/geo/layers.json")).json();
      for (const layer of layers) {
        const data = await (await fetch(layer.url)).json();
        const drawn = L.geoJSON(data, {
          style: STYLE[layer.layer_id] || STYLE.streets,
          interactive: false,
          attribution: layer.attribution,
        }).addTo(map);
        overlays[Linli.lang === "zh" ? layer.name_zh : layer.name_en] = drawn;
      }
      L.control.layers(null, overlays, { collapsed: false }).addTo(map);
    } catch (error) {
      say(Linli.errorText(error));
    }
    const found = L.featureGroup().addTo(map);

    /** Each sheet's depot → stops → depot in its vehicle's colour; legend entries back. */
    function addRoutes(sheets) {
      map.getContainer().dataset.routes = String(sheets.length);
      return sheets.map((sheet, i) => {
        const c = colour(i);
        const points = [[sheet.depot_lat, sheet.depot_lon], ...sheet.stops.map((s) => [s.gate_lat, s.gate_lon]), [sheet.depot_lat, sheet.depot_lon]];
        L.polyline(points, { color: c, weight: 4, opacity: 0.9 }).bindTooltip(sheet.plate).addTo(found);
        L.circleMarker([sheet.depot_lat, sheet.depot_lon], { radius: 8, color: "#000", weight: 2, fillColor: c, fillOpacity: 1 })
          .bindTooltip(`${Linli.t("depot")} ${sheet.depot_name}`).addTo(found);
        for (const stop of sheet.stops) {
          L.circleMarker([stop.gate_lat, stop.gate_lon], { radius: 6, color: c, weight: 2, fillColor: "#fff", fillOpacity: 1 })
            .bindTooltip(`${sheet.plate} ${Linli.t("stop", { n: stop.sequence })} ${stop.compound_name} ${stop.gate_name}`).addTo(found);
        }
        return { plate: sheet.plate, vehicle_id: sheet.vehicle_id, colour: c, stops: sheet.stops.length };
      });
    }

    /** Circles at compounds, area proportional to units. */
    function addDemand(points) {
      map.getContainer().dataset.demand = String(points.length);
      const most = Math.max(1, ...points.map((p) => p.units));
      for (const p of points) {
        L.circleMarker([p.lat, p.lon], {
          radius: 4 + 16 * Math.sqrt(p.units / most), color: "#7a3b00", weight: 1.5, fillColor: "#E69F00", fillOpacity: 0.6,
        }).bindTooltip(`${p.name}: ${p.units}`).addTo(found);
      }
    }

    function fit() {
      const bounds = found.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15, animate: false });
    }

    return { map, addRoutes, addDemand, fit };
  }

  /** The legend of routes as list items (also shown without a map). */
  function legend(entries) {
    return entries.map((e) => Linli.el("li", {},
      Linli.el("span", { class: "swatch", style: `background:${e.colour}`, "aria-hidden": "true" }),
      `${e.plate} (${e.vehicle_id}) · ${e.stops}`));
  }

  return { available, create, colour, legend };
})();
