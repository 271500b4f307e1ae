#!/bin/bash
# Builds sifverify OFFLINE from Debian's packaged Go sources (no module proxy):
#   apt-get install golang-go golang-github-sylabs-sif-dev \
#     golang-github-protonmail-go-crypto-dev golang-github-google-uuid-dev
#   tests/oracle/sifverify/build.sh OUT_DIR      -> OUT_DIR/sifverify
# GOCODE=/other/gocode/src selects another tree of Go sources (default /usr/share/gocode/src);
# MAIN_DIR=DIR builds DIR/main.go instead (../sifverify-dsse: the DSSE-aware one, sif >= 2.10).
# Import paths with a major version suffix (/v2, /v4) are linked to the packaged folder.
# GOPATH mode over /usr/share/gocode, with the /v2 import path of sif made by a link.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-.}" && cd "${1:-.}" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
src=${GOCODE:-/usr/share/gocode/src}
[ -d "$src/github.com/sylabs/sif/pkg/integrity" ] || { echo "golang-github-sylabs-sif-dev is not installed" >&2; exit 1; }
mkdir -p "$work/src/github.com/sylabs/sif" "$work/src/sifverify"
for d in "$src"/*; do [ "$(basename "$d")" = github.com ] || ln -s "$d" "$work/src/"; done
for d in "$src"/github.com/*; do [ "$(basename "$d")" = sylabs ] || ln -s "$d" "$work/src/github.com/"; done
ln -s "$src/github.com/sylabs/sif" "$work/src/github.com/sylabs/sif/v2"
cp "${MAIN_DIR:-$here}/main.go" "$work/src/sifverify/"
cd "$work/src/sifverify"
GOPATH=$work GO111MODULE=off GOCACHE=$work/cache GOFLAGS= go build -o "$out/sifverify" .
echo "$out/sifverify"
