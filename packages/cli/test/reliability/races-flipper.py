# The racer of races.test.ts (issue 18, item 5): swaps DIR/NAME, a directory, with HOLD/.NAME.link,
# a symlink to TARGET, and back, with renameat2(RENAME_EXCHANGE) as the CVE-2018-15664 proof of
# concept did: NAME is always there, a directory or the symlink, never missing. HOLD is on the
# same filesystem, outside the tree the operation walks. Runs until STOPFILE exists, MAXMS pass
# or MAXFLIPS swaps are done; prints the number of swaps. Node has no renameat2, hence Python.
# Usage: python3 races-flipper.py DIR NAME TARGET HOLD STOPFILE MAXMS MAXFLIPS
import ctypes, os, shutil, sys, time

d, name, target, hold, stop_file, max_ms, max_flips = sys.argv[1:8]
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_EXCHANGE = 2
p = os.path.join(d, name).encode()
link = os.path.join(hold, '.%s.link' % name).encode()


def fresh_link():
    """HOLD/.NAME.link as a symlink to TARGET (the operation may have replaced what stood at NAME,
    and be writing into the directory that came here: then next time)."""
    if os.path.islink(link):
        return
    try:
        if os.path.isdir(link):
            shutil.rmtree(link)
        elif os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
    except OSError:
        pass


os.makedirs(hold, exist_ok=True)
fresh_link()
end = time.monotonic() + int(max_ms) / 1000
flips = 0
i = 0
while flips < int(max_flips):
    i += 1
    if i % 64 == 0:
        if os.path.exists(stop_file) or time.monotonic() > end:
            break
        fresh_link()
    if libc.renameat2(AT_FDCWD, p, AT_FDCWD, link, RENAME_EXCHANGE) != 0:
        continue  # NAME not there (yet): the operation has not made it
    flips += 1
    # swap back: NAME is the directory again, the symlink waits in HOLD (unless the operation
    # removed what stood at NAME meanwhile: then fresh_link starts over)
    for _ in range(1000):
        if libc.renameat2(AT_FDCWD, p, AT_FDCWD, link, RENAME_EXCHANGE) == 0:
            break
print(flips)
