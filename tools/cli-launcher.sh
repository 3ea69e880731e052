#!/bin/sh
# The `strata` command. NODE_EXTRA_CA_CERTS makes node parse that CA bundle at every start
# (~50 ms), though most strata commands never open a TLS connection: it is handed on as
# STRATA_EXTRA_CA_CERTS, which strata reads when it first needs HTTPS.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  STRATA_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS
  export STRATA_EXTRA_CA_CERTS
  unset NODE_EXTRA_CA_CERTS
fi
# Resolve a symlink (npm link, ~/bin/strata → …) only when there is one: no subprocess otherwise.
self=$0
if [ -L "$self" ]; then self=$(readlink -f "$self"); fi
# No V8 flags here: V8's code cache is only valid for the flags it was made with, and
# --max-semi-space-size=32 alone cost ~18 ms a start for no gain measurable over the noise.
exec node "${self%/*}/strata.cjs" "$@"
