#!/usr/bin/env bash
# Builds the agent image offline (no base image from a registry): Node.js and the shared libraries it
# links (ldd), CA certificates, and the app with `npm ci --omit=dev`. Usage: build-image.sh [TAG]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
version=$(node -p "require('$here/package.json').version")
tag=${1:-switchyard/agent:$version}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root="$ctx/rootfs"
mkdir -p "$root/usr/bin" "$root/app" "$root/tmp" "$root/var/lib/switchyard" "$root/etc/ssl/certs"
chmod 1777 "$root/tmp"
node_bin=$(command -v node)
cp "$(readlink -f "$node_bin")" "$root/usr/bin/node"
for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
# The test suite builds dist/ once for every test that runs the CLI, and says so: rebuilding it here would
# rewrite files other tests are running from.
[ "${SWITCHYARD_DIST_READY:-}" = 1 ] || (cd "$here" && npm run --silent build)
cp -r "$here/package.json" "$here/package-lock.json" "$here/bin" "$here/dist" "$here/schemas" "$here/dashboard" "$root/app/"
(cd "$root/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
cp "$here/packaging/Dockerfile" "$ctx/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q --label dev.switchyard.image=agent -t "$tag" "$ctx" >/dev/null
echo "$tag"
