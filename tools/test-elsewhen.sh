#!/usr/bin/env bash
# Runs the tests (all, or the vitest arguments given) a year from now, in the UTC+14 zone and a
# German locale: no test result may depend on today's date, the time zone or the locale.
#   tools/test-elsewhen.sh                      # the whole suite
#   tools/test-elsewhen.sh packages/inspect     # some of it
#   STRATA_FAKETIME=-365d tools/test-elsewhen.sh …
# libfaketime (Debian's faketime, see tools/install-deps.sh) moves the clock of this process tree
# only: strata, node, docker's CLI. The engine (dockerd, containerd, runc) is left alone. Files are
# still stamped by the kernel's clock, so the code must not mix file times with the process clock.
set -euo pipefail
cd "$(dirname "$0")/.."
lib=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime\.so\.1$' | head -n1 || true)
if [ -z "$lib" ]; then
  echo "libfaketime is not installed: apt-get install faketime (tools/install-deps.sh)" >&2
  exit 2
fi
want_locale="${STRATA_LOCALE:-de_DE.UTF-8}"
has_locale() { locale -a 2>/dev/null | grep -qi "^$(printf '%s' "$want_locale" | sed 's/UTF-8/utf-\\?8/I')$"; }
if ! has_locale && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # the locale itself, so that child processes (bash, coreutils) run in it too
  dpkg -s locales >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq locales >/dev/null
  grep -q "^$want_locale" /etc/locale.gen 2>/dev/null || echo "$want_locale UTF-8" >> /etc/locale.gen
  locale-gen >/dev/null
fi
if ! has_locale; then
  echo "note: no $want_locale locale here (locale-gen $want_locale): node's Intl still uses it, child processes use C" >&2
fi
/usr/bin/docker info >/dev/null 2>&1 || echo "note: start dockerd first, or the test setup starts it under the fake clock" >&2
node tools/build-cli.mjs
export FAKETIME="${STRATA_FAKETIME:-+365d}" LD_PRELOAD="$lib"
# openssl too: the test registry's certificates are checked by peers on the real clock (skopeo,
# docker-registry), and a certificate dated a year ahead is not valid yet for them
export FAKETIME_SKIP_CMDS="dockerd,containerd,containerd-shim-runc-v2,runc,crun,openssl"
export TZ="${STRATA_TZ:-Pacific/Kiritimati}" LANG="${STRATA_LOCALE:-de_DE.UTF-8}" LC_ALL="${STRATA_LOCALE:-de_DE.UTF-8}"
echo "tests at $(date -u +%FT%TZ) (FAKETIME=$FAKETIME), TZ=$TZ, LC_ALL=$LC_ALL" >&2
exec npx vitest run "$@"
