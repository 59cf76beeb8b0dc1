#!/usr/bin/env bash
# The demo: the agent on a git repository made from example-repo/, serving hello on 127.0.0.1:8080 and
# shop by host name (shop.localhost) on the shared HTTP port 127.0.0.1:8000.
# The repository lives in .demo/desired (kept across runs): flip and roll back there with git.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build
bash scripts/build-example-images.sh

repo=.demo/desired
if [ ! -d "$repo/.git" ]; then
  mkdir -p "$repo"
  cp -r example-repo/apps "$repo/"
  git -C "$repo" init -q -b main
  git -C "$repo" add -A
  git -C "$repo" -c user.name="Switchyard demo" -c user.email=demo@localhost commit -q -m "demo: initial desired state from example-repo/"
fi
cat >&2 <<MSG

  Switchyard demo: hello will answer on http://127.0.0.1:8080/ once its blue targets are healthy,
  and shop by its host name on the shared port 8000.
    curl http://127.0.0.1:8080/
    curl --resolve shop.localhost:8000:127.0.0.1 http://shop.localhost:8000/
  Flip to green (in another terminal):
    cd $repo && sed -i 's/^active: blue/active: green/' apps/hello.yaml && git commit -qam 'hello: flip to green'
  Roll back:
    cd $repo && git revert --no-edit HEAD
  Status: npx switchyard status      Stop: Ctrl-C (containers keep running; a restart adopts them)

MSG
exec node --max-semi-space-size=1 --optimize-for-size bin/switchyard.js run --repo "$repo" --branch main --interval 2s --instance demo --http 127.0.0.1:8000 "$@"
