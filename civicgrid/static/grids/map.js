/* Grid map (J6): grids coloured by type, unit grids as thin outlines, a side panel over HTMX.
 *
 * Boundaries are stored in WGS84. When the tile server draws GCJ-02 (AMap/Tencent style
 * tiles, TILE_CRS=gcj02) they are shifted for display only; no tiles at all gives a plain
 * background and the boundaries still show (government intranets are offline).
 */
(function () {
  "use strict";

  var el = document.getElementById("grid-map");
  var panel = document.getElementById("region-panel");
  if (!el || !panel || !window.L) { return; }
  var cfg = el.dataset;
  var colours = JSON.parse(cfg.colours || "{}");
  var UNIT_ZOOM = 16;
  var LABEL_ZOOM = 14;

  // --- WGS84 → GCJ-02 (display only) -------------------------------------------------------
  var A = 6378245.0, EE = 0.00669342162296594323;
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLng(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function wgsToGcj(lat, lng) {
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    var rad = lat / 180 * Math.PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad);
    var s = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * s) * Math.PI);
    dLng = (dLng * 180) / (A / s * Math.cos(rad) * Math.PI);
    return L.latLng(lat + dLat, lng + dLng);
  }
  var toDisplay = cfg.tileCrs === "gcj02" ? wgsToGcj : function (lat, lng) { return L.latLng(lat, lng); };
  function coordsToLatLng(c) { return toDisplay(c[1], c[0]); }

  // --- map and base layer --------------------------------------------------------------------
  var map = L.map(el, { attributionControl: !!cfg.tileUrl, zoomSnap: 0.5 });
  if (cfg.tileUrl) {
    L.tileLayer(cfg.tileUrl, { attribution: cfg.tileAttribution || "", maxZoom: 19 }).addTo(map);
  } else {
    el.classList.add("gm-no-tiles");
  }
  map.setView([33.5, 119.14], 14);

  var legend = document.getElementById("map-legend");
  if (legend) {
    var LegendControl = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () { legend.hidden = false; L.DomEvent.disableClickPropagation(legend); return legend; }
    });
    map.addControl(new LegendControl());
  }

  // --- layers --------------------------------------------------------------------------------
  var features = {};  // code → GeoJSON feature, for highlighting whatever the panel shows
  var gridLabels = L.layerGroup();
  var unitLabels = L.layerGroup();
  var unitHits = null;
  var highlight = null;

  function label(group, props, text, className) {
    var at = props.label_at;
    if (!at || at[0] === null) { return; }
    L.tooltip({ permanent: true, direction: "center", className: className, interactive: false })
      .setLatLng(toDisplay(at[0], at[1])).setContent(text).addTo(group);
  }

  // A darker stroke of the fill colour, so neighbouring grids of one type stay apart.
  function shade(hex, factor) {
    var n = parseInt(hex.slice(1), 16);
    var rgb = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(function (v) { return Math.round(v * factor); });
    return "rgb(" + rgb.join(",") + ")";
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function drawGrids(data) {
    var layer = L.geoJSON(data, {
      coordsToLatLng: coordsToLatLng,
      style: function (f) {
        var c = colours[f.properties.grid_type] || "#888888";
        return { color: shade(c, 0.55), weight: 2, opacity: 0.9, fillColor: c, fillOpacity: 0.32, className: "gm-grid" };
      },
      onEachFeature: function (f, lyr) {
        features[f.properties.code] = f;
        lyr.on("add", function () {
          var path = lyr.getElement();
          if (path) { path.setAttribute("data-code", f.properties.code); path.setAttribute("data-grid-type", f.properties.grid_type); }
        });
        lyr.on("click", function () { select(f.properties.code); });
        label(gridLabels, f.properties, escapeHtml(f.properties.name), "gm-label");
      }
    }).addTo(map);
    return layer;
  }

  function drawUnits(data) {
    L.geoJSON(data, {
      coordsToLatLng: coordsToLatLng, interactive: false,
      style: { color: "#4a4a4a", weight: 0.8, opacity: 0.8, dashArray: "3 3", fill: false, className: "gm-unit" },
      onEachFeature: function (f) {
        features[f.properties.code] = f;
        label(unitLabels, f.properties, f.properties.code.slice(12), "gm-unit-label");
      }
    }).addTo(map);
    // Transparent, clickable copies, only when zoomed in: below that a click means "the grid".
    unitHits = L.geoJSON(data, {
      coordsToLatLng: coordsToLatLng,
      style: { stroke: false, fillOpacity: 0, className: "gm-unit-hit" },
      onEachFeature: function (f, lyr) { lyr.on("click", function () { select(f.properties.code); }); }
    });
  }

  function onZoom() {
    var z = map.getZoom();
    toggle(gridLabels, z >= LABEL_ZOOM);
    toggle(unitLabels, z >= UNIT_ZOOM);
    if (unitHits) { toggle(unitHits, z >= UNIT_ZOOM); }
  }
  function toggle(layer, on) {
    if (on && !map.hasLayer(layer)) { layer.addTo(map); }
    if (!on && map.hasLayer(layer)) { map.removeLayer(layer); }
  }

  function setCount(kind, n) {
    var b = legend && legend.querySelector('[data-count="' + kind + '"]');
    if (b) { b.textContent = n; }
  }

  // --- selection: the panel is the source of truth, the map follows it ------------------------
  function select(code) {
    window.htmx.ajax("GET", cfg.panelUrl.replace("CODE", encodeURIComponent(code)),
      { target: "#region-panel", swap: "innerHTML" });
  }

  function highlightCode(code) {
    if (highlight) { map.removeLayer(highlight); highlight = null; }
    var f = features[code];
    if (!f) { return; }
    highlight = L.geoJSON(f, {
      coordsToLatLng: coordsToLatLng, interactive: false,
      style: { color: "#d62828", weight: 3.5, fill: false, className: "gm-highlight" }
    }).addTo(map);
  }

  document.body.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target !== panel) { return; }
    var body = panel.querySelector("[data-region-code]");
    if (body) { highlightCode(body.dataset.regionCode); }
  });

  function showMessage(text) {
    panel.innerHTML = "";
    var p = document.createElement("p");
    p.className = "text-danger";
    p.textContent = text;
    panel.appendChild(p);
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  Promise.all([getJSON(cfg.gridsUrl), getJSON(cfg.unitsUrl)]).then(function (res) {
    var grids = res[0], units = res[1];
    setCount("grid", grids.features.length);
    setCount("unit", units.features.length);
    if (!grids.features.length && !units.features.length) { showMessage(cfg.msgEmpty); return; }
    var gridLayer = drawGrids(grids);
    drawUnits(units);  // on top of the grid fills, but not clickable: clicks reach the grid
    var bounds = gridLayer.getBounds();
    if (!bounds.isValid()) { bounds = L.geoJSON(units, { coordsToLatLng: coordsToLatLng }).getBounds(); }
    // Keep the street clear of the legend: beside it on a desk, above the strip on a phone.
    var narrow = el.clientWidth < 768;
    var right = legend && !narrow ? legend.offsetWidth + 16 : 12;
    var bottom = legend && narrow ? legend.offsetHeight + 16 : 12;
    map.fitBounds(bounds, { paddingTopLeft: [12, 12], paddingBottomRight: [right, bottom], animate: false });
    map.on("zoomend", onZoom);
    onZoom();
    el.setAttribute("data-ready", "1");
    if (cfg.selected) { select(cfg.selected); }
  }).catch(function () { showMessage(cfg.msgLoadError); });
})();
