#!/usr/bin/env bash
# One command from a fresh Debian machine to a built and running image:
# installs what strata needs, builds the CLI, makes a busybox base image locally (no registry
# needed), builds examples/hello with `strata build` and runs it in a container.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
npm run build --silent
strata() { dist/strata "$@"; }
export STRATA_ROOT="${STRATA_ROOT:-$HOME/.local/share/strata}"
echo "== making a busybox base image (local/busybox:latest) from Debian's busybox-static"
bash tools/make-busybox-rootfs.sh | strata image import - local/busybox:latest
strata image ls
echo "== building examples/hello"
strata build -t hello:latest examples/hello
strata image history hello:latest
echo "== running it"
strata container run --rm hello:latest
