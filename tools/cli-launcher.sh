#!/bin/sh
# The `strata` command. NODE_EXTRA_CA_CERTS makes node parse that CA bundle at every start
# (~50 ms), though most strata commands never open a TLS connection: it is handed on as
# STRATA_EXTRA_CA_CERTS, which strata reads when it first needs HTTPS.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  STRATA_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS
  export STRATA_EXTRA_CA_CERTS
  unset NODE_EXTRA_CA_CERTS
fi
# glibc's malloc on transparent huge pages (glibc >= 2.35; the kernel must offer THP on madvise,
# as Debian's does): the buffers a pull or a build streams through are then faulted in 2 MiB at a
# time instead of 4 KiB. A page fault cost ~13 us on the VM this was measured on; a pull of 160 MB
# took ~23,000 of them and ~7,500 with this, and ran 12-20% faster. Only when the caller set no
# tunables of their own; strata.cjs takes it out of the environment again at start, so what strata
# runs (runc, credential helpers, tar) sees the caller's environment.
if [ -z "${GLIBC_TUNABLES+set}" ]; then
  GLIBC_TUNABLES=glibc.malloc.hugetlb=1
  STRATA_GLIBC_TUNABLES=launcher
  export GLIBC_TUNABLES STRATA_GLIBC_TUNABLES
fi
# Resolve a symlink (npm link, ~/bin/strata → …) only when there is one: no subprocess otherwise.
self=$0
if [ -L "$self" ]; then self=$(readlink -f "$self"); fi
# No V8 flags here: V8's code cache is only valid for the flags it was made with, and
# --max-semi-space-size=32 alone cost ~18 ms a start for no gain measurable over the noise.
exec node "${self%/*}/strata.cjs" "$@"
