#!/usr/bin/env bash
# Writes a busybox root filesystem tar (from Debian's busybox-static) to $1 (or stdout):
# applets as hard links to /bin/busybox, and /etc/passwd, /etc/group with a few users.
set -euo pipefail
out="${1:--}"
bb=$(command -v busybox || true)
[ -x /bin/busybox ] && bb=/bin/busybox
[ -n "$bb" ] || { echo "busybox not found (apt-get install busybox-static)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"/{bin,dev,etc,home/app,proc,root,sys,tmp,usr/bin,var/www}
chmod 755 "$dir"; chmod 1777 "$dir/tmp"; chmod 700 "$dir/root"
cp "$bb" "$dir/bin/busybox"
for a in $("$bb" --list); do [ "$a" = busybox ] || ln "$dir/bin/busybox" "$dir/bin/$a"; done
cat > "$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat > "$dir/etc/group" <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
tty:x:5:
www-data:x:33:
staff:x:50:
app:x:1000:
users:x:100:
nogroup:x:65534:
G
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2024-01-01 00:00:00Z' -C "$dir" -cf "$out" .
