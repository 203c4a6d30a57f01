/* Workbenches: refusals (400/403/404/409) are answers to show in the panel, not errors to
 * drop; every new case panel gets its small map (unit grid outline and the reported point).
 * Without a tile server the map still shows the outline on a plain background. */
(function () {
  "use strict";

  var SHOWN = { 400: true, 403: true, 404: true, 409: true };
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (SHOWN[e.detail.xhr.status]) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  // A new panel starts at its top, where the result message of the last action is.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "case-panel") {
      e.detail.target.scrollTop = 0;
      var top = e.detail.target.getBoundingClientRect().top;
      if (top < 0) { window.scrollBy(0, top - 8); }
    }
  });

  function drawMap(el) {
    if (!window.L || el.dataset.ready) { return; }
    el.dataset.ready = "1";
    var map = L.map(el, {
      attributionControl: false, scrollWheelZoom: false,
      zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false
    });
    map.setView([33.5, 119.14], 13);  // vector layers need a view before they are added
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
    }
    var bounds = null;
    if (el.dataset.boundary) {
      var unit = L.geoJSON(JSON.parse(el.dataset.boundary), {
        style: { color: "#4f5bd5", weight: 2, fillOpacity: 0.08, dashArray: "4 3" }
      }).addTo(map);
      bounds = unit.getBounds();
    }
    if (el.dataset.lat && el.dataset.lng) {
      var at = L.latLng(parseFloat(el.dataset.lat), parseFloat(el.dataset.lng));
      L.circleMarker(at, { radius: 8, color: "#d6336c", weight: 3, fillOpacity: 0.9 }).addTo(map);
      bounds = bounds ? bounds.extend(at) : L.latLngBounds(at, at);
    }
    // The panel may still be settling when this runs: size the map once it has its box.
    function fit() {
      map.invalidateSize();
      if (bounds) {
        map.fitBounds(bounds.pad(0.15), { maxZoom: 17 });
      } else {
        map.setView([33.5, 119.14], 13);
      }
    }
    fit();
    window.setTimeout(fit, 60);
  }

  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll(".cw-map").forEach(drawMap);
    // Highlight the selected row of the queue.
    document.querySelectorAll("[data-case-row]").forEach(function (row) {
      var panel = document.querySelector("[data-panel-case]");
      row.classList.toggle("table-active", !!panel && panel.dataset.panelCase === row.dataset.caseRow);
    });
  }

  document.addEventListener("htmx:load", function (e) { init(e.target); });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
