#!/usr/bin/env bash
# Copy the pinned front-end libraries from node_modules into our static files (no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=civicgrid/static/vendor
rm -rf "$dest"
mkdir -p "$dest/bootstrap" "$dest/leaflet"
cp node_modules/bootstrap/dist/css/bootstrap.min.css "$dest/bootstrap/"
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$dest/bootstrap/"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$dest/leaflet/"
cp -r node_modules/leaflet/dist/images "$dest/leaflet/"
if [ -d node_modules/echarts ]; then
  mkdir -p "$dest/echarts" && cp node_modules/echarts/dist/echarts.min.js "$dest/echarts/"
fi
echo "vendor assets copied to $dest"
