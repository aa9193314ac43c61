#!/usr/bin/env bash
# Rebuilds the vendored JsSIP bundle the web phone loads. JsSIP's npm
# package ships CommonJS only, so esbuild bundles it (with its three small
# dependencies) into one browser script exposing window.JsSIP.
# Run from anywhere: web/build-vendor.sh  (needs node and npm).
set -euo pipefail
JSSIP=3.13.8
ESBUILD=0.28.2
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm init -y >/dev/null
npm install --no-audit --no-fund --save-exact "jssip@$JSSIP" "esbuild@$ESBUILD" >/dev/null
./node_modules/.bin/esbuild node_modules/jssip/lib/JsSIP.js --bundle --minify --format=iife \
  --global-name=JsSIP --platform=browser --target=es2019 \
  --outfile="$here/static/vendor/jssip-$JSSIP.min.js"
cp node_modules/jssip/LICENSE.md "$here/static/vendor/jssip-LICENSE.md"
echo "bundled JsSIP $JSSIP with esbuild $ESBUILD into web/static/vendor/"
