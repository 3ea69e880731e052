#!/usr/bin/env bash
# Installs strata's system and npm dependencies on Debian (idempotent), and starts dockerd when
# it is installed but not running (interop tests compare against the real engine).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PKGS="docker.io runc crun skopeo umoci busybox-static docker-registry zstd xz-utils bzip2 jq python3 faketime chromium tmux apache2-utils openssl containernetworking-plugins iptables conntrack iproute2 util-linux mount tar"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if ! /usr/bin/docker info >/dev/null 2>&1; then
  ($SUDO nohup dockerd --iptables=false >/tmp/strata-dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do /usr/bin/docker info >/dev/null 2>&1 && break; sleep 0.5; done
fi
