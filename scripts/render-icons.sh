#!/usr/bin/env bash
# Renders icons/icon.svg to the PNG sizes the manifest names, with Debian's headless Chromium.
# The PNGs are committed; run this only after changing the SVG.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
for size in 16 32 48 128; do
  printf '<html><body style="margin:0"><img src="file://%s/icons/icon.svg" width="%s" height="%s"></body></html>' "$PWD" "$size" "$size" > "$tmp/icon.html"
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --default-background-color=00000000 \
    --allow-file-access-from-files --window-size="$size,$size" --screenshot="$PWD/icons/icon-$size.png" "file://$tmp/icon.html" 2>/dev/null
done
rm -rf "$tmp"
