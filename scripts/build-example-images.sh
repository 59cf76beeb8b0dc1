#!/usr/bin/env bash
# Builds the demo images offline (no registry needed): FROM scratch plus busybox-static's binary.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "build-example-images: $busybox not found; install it: apt-get install -y busybox-static" >&2; exit 1; }
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp -r "$here/example-repo/images/hello/." "$ctx/"
cp "$busybox" "$ctx/busybox"
for version in 1.0 1.1; do
  image="switchyard-example/hello:$version"
  if [ "${REBUILD:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then continue; fi
  echo "building $image"
  printf '%s\n' "$version" > "$ctx/www/version"   # a static, length-framed answer (benchmarks use it)
  DOCKER_BUILDKIT=0 docker build -q --build-arg "VERSION=$version" --label dev.switchyard.example=1 -t "$image" "$ctx" >/dev/null 2>&1 \
    || { echo "build-example-images: docker build of $image failed; run it by hand to see why: docker build $ctx" >&2; exit 1; }
done
