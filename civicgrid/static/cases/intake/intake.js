/* Intake pages: a draggable pin with "use my location", a photo count check, and a submit
   button that cannot be pressed twice in a row (the page's idempotency key makes a second
   press harmless anyway; the button comes back after a while for a dropped connection). */
(function () {
  "use strict";

  function setupMap(el) {
    var lat = document.getElementById("id_lat"), lng = document.getElementById("id_lng");
    var status = document.getElementById("gps-status");
    var d = el.dataset, marker = null;
    var start = lat.value ? [parseFloat(lat.value), parseFloat(lng.value)]
                          : [parseFloat(d.lat), parseFloat(d.lng)];
    var map = L.map(el).setView(start, lat.value ? 17 : 15);
    if (d.tiles) { L.tileLayer(d.tiles, {maxZoom: 19, attribution: d.attribution || ""}).addTo(map); }

    function show(p, prefix) {
      lat.value = p.lat.toFixed(7); lng.value = p.lng.toFixed(7);
      status.textContent = prefix + " " + p.lat.toFixed(5) + ", " + p.lng.toFixed(5);
    }
    function put(p, prefix, zoom) {
      if (!marker) {
        marker = L.marker(p, {draggable: true}).addTo(map);
        marker.on("dragend", function () { show(marker.getLatLng(), d.textPicked); });
      }
      marker.setLatLng(p);
      show(marker.getLatLng(), prefix);
      if (zoom) { map.setView(p, 17); }
    }
    function locate() {
      if (!navigator.geolocation) { status.textContent = d.textFailed; return; }
      status.textContent = d.textLocating;
      navigator.geolocation.getCurrentPosition(function (pos) {
        put(L.latLng(pos.coords.latitude, pos.coords.longitude), d.textLocated, true);
      }, function () { status.textContent = d.textFailed; },
      {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
    }
    if (lat.value) { put(L.latLng(start[0], start[1]), d.textPicked, false); }
    map.on("click", function (e) { put(e.latlng, d.textPicked, false); });
    var btn = document.getElementById("use-location");
    if (btn) { btn.addEventListener("click", locate); }
    if (d.autolocate) { locate(); }
  }

  function setupPhotos(input) {
    var out = document.getElementById("photos-count"), max = parseInt(input.dataset.max, 10);
    input.addEventListener("change", function () {
      var n = input.files.length, over = n > max;
      out.textContent = over ? input.dataset.textMany + " " + max + " / " + n
                             : (n ? input.dataset.textChosen + " " + n : "");
      out.className = over ? "small text-danger" : "small text-muted";
    });
  }

  function setupOnce(form) {
    form.addEventListener("submit", function () {
      var b = form.querySelector("[type=submit]");
      if (!b) { return; }
      var label = b.textContent;
      b.disabled = true; b.textContent = form.dataset.textBusy || label;
      setTimeout(function () { b.disabled = false; b.textContent = label; }, 8000);
    });
  }

  var el = document.getElementById("intake-map");
  if (el && window.L) { setupMap(el); }
  var photos = document.getElementById("id_photos_input");
  if (photos) { setupPhotos(photos); }
  document.querySelectorAll("form[data-once]").forEach(setupOnce);
})();
