#!/usr/bin/env bash
# Vendors GOV.UK Frontend's built files into the package, compiled once here (never
# at run time) with a council's settings: Arial instead of the GDS Transport font,
# which only services on GOV.UK may use, and the assets under /static/govuk/.
# Usage: deploy/vendor/govuk-frontend.sh   (versions pinned below)
set -euo pipefail
GOVUK_FRONTEND=6.6.0
SASS=1.108.2
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/services/api/web/static/govuk"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "govuk-frontend@$GOVUK_FRONTEND" "sass@$SASS"
cat > lantern.scss <<'SCSS'
$govuk-font-family: arial, sans-serif;
$govuk-assets-path: "/static/govuk/assets/";
@import "govuk-frontend/dist/govuk/index";
SCSS
rm -rf "$out" && mkdir -p "$out/assets/images"
npx sass --no-source-map --style=compressed --load-path=node_modules \
  --quiet-deps --silence-deprecation=import lantern.scss "$out/govuk-frontend.min.css"
dist=node_modules/govuk-frontend/dist/govuk
cp "$dist/govuk-frontend.min.js" "$out/"
cp "$dist/assets/images/favicon.ico" "$dist/assets/images/favicon.svg" "$out/assets/images/"
cp node_modules/govuk-frontend/package.json "$out/package.json"
cp "$root/deploy/vendor/govuk-frontend.LICENSE.txt" "$out/LICENSE.txt"
echo "GOV.UK Frontend $GOVUK_FRONTEND vendored into $out"
