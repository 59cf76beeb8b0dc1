#!/usr/bin/env bash
# Brings a fresh Debian machine (Node 20 present) to where the demo and the tests run, and does nothing
# on one that is ready: apt packages, a Docker engine that answers, node_modules and the build.
# Idempotent: every step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

# 1. Debian packages: the Docker engine, busybox-static (the offline images), haproxy (a router driver),
#    git, wrk (benchmarks), docker-registry and apache2-utils (tests pull images from a registry on
#    127.0.0.1 that requires a password), systemd (systemd-analyze checks the unit file) and openssl
#    (a test CA and certificates for the TLS entrypoint), pebble (the ACME test server), and gnupg and
#    openssh-client (the tests sign commits and tags with gpg and ssh-keygen keys they make), zsh
#    (the completion script is tested in it), and iproute2, iptables and util-linux (the swarm test
#    forms a three-node swarm of engines in network namespaces), and chromium (the dashboard is tested in
#    it, headless).
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 && ! ldd /bin/busybox >/dev/null 2>&1 || missing+=(busybox-static)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)   # the benchmarks' load generator
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)   # image pulls, tested on loopback
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)   # the test registry's bcrypt password file
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)   # verifies packaging/switchyard.service
command -v openssl >/dev/null 2>&1 || missing+=(openssl)   # the tests make a CA and certificates for the TLS entrypoint
command -v pebble >/dev/null 2>&1 || missing+=(pebble)   # the ACME test server (with pebble-challtestsrv as its DNS)
command -v gpg-agent >/dev/null 2>&1 || missing+=(gnupg)   # OpenPGP-signed commits and tags in the tests
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)   # SSH-signed commits and tags in the tests
command -v zsh >/dev/null 2>&1 || missing+=(zsh)   # the zsh completion script is run in real zsh
command -v ip >/dev/null 2>&1 || missing+=(iproute2)   # the swarm test's nodes: network namespaces, veth, a bridge
command -v iptables >/dev/null 2>&1 || missing+=(iptables)   # ... and a FORWARD rule for that bridge
command -v nsenter >/dev/null 2>&1 || missing+=(util-linux)   # ... each node's dockerd started in its namespace
[ -x /usr/bin/chromium ] || missing+=(chromium)   # the dashboard's browser test (driven by playwright-core; nothing downloads a browser)
# --bench (npm run bench:proxy): nginx and Caddy too, the reference rows. Only their binaries are wanted:
# a service a package starts is stopped and disabled again below.
new_refs=
if [ "${1:-}" = "--bench" ] && ! command -v nginx >/dev/null 2>&1; then missing+=(nginx-light); new_refs=1; fi
if [ "${1:-}" = "--bench" ] && ! command -v caddy >/dev/null 2>&1; then missing+=(caddy); new_refs=1; fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing packages: ${missing[*]}. Install them as root, then run this again:"
    say "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  if [ -n "$new_refs" ]; then
    # The packages may start nginx or Caddy on port 80; nothing here wants those services (the bench runs its own).
    { [ -d /run/systemd/system ] && systemctl disable --now nginx caddy; } >/dev/null 2>&1 || true
    pkill -x nginx >/dev/null 2>&1 || true
    pkill -x caddy >/dev/null 2>&1 || true
  fi
fi

# 2. A Docker engine that answers. Start one when none does.
if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    say "no Docker engine answers and you are not root. Start one (sudo systemctl start docker), or add"
    say "yourself to the docker group (sudo usermod -aG docker \$USER, then log in again)."
    exit 1
  fi
  if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then
    say "started docker with systemctl"
  else
    # A dockerd that is still shutting down holds its pid file: let it finish. One that was killed
    # (a machine's sessions end that way) leaves a stale pid file that stops a new dockerd from starting.
    for _ in $(seq 1 30); do pgrep -x dockerd >/dev/null || break; sleep 1; done
    if ! pgrep -x dockerd >/dev/null && [ -f /var/run/docker.pid ]; then
      say "removing the stale /var/run/docker.pid of a dockerd that is no longer running"
      rm -f /var/run/docker.pid
    fi
    say "starting dockerd in the background (log: /var/log/switchyard-dockerd.log)"
    nohup dockerd >/var/log/switchyard-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { say "dockerd did not answer within 60s; see /var/log/switchyard-dockerd.log"; exit 1; }
fi

# 3. Node dependencies (npm ci also builds dist/ through the prepare script).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing node dependencies (npm ci)"
  npm ci --no-fund --no-audit --loglevel=error
fi

