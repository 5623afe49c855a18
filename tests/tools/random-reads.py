#!/usr/bin/env python3
"""random-reads: N readers in parallel, for S seconds, read random ranges
(1 byte to 1 MiB, at any offset) of files through a mount and compare each
with the same range of the source file.

  random-reads.py PAIRS SECONDS READERS SEED

PAIRS holds lines "MOUNTED_FILE<TAB>SOURCE_FILE".  Each reader is its own
process; it keeps its files open and reopens one now and then (opens and
lookups run under load too).  Prints one summary line and exits 0 when
every byte read was right and no read failed, 1 otherwise (the first
differences are printed)."""
import multiprocessing
import os
import random
import sys
import time


def reader(args):
    pairs, seconds, seed = args
    rng = random.Random(seed)
    fds = {}
    reads = nbytes = bad = errors = 0
    first = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            i = rng.randrange(len(pairs))
            mounted, source, size = pairs[i]
            if i not in fds or rng.random() < 0.02:
                if i in fds:
                    os.close(fds[i][0])
                    os.close(fds[i][1])
                fds[i] = (os.open(mounted, os.O_RDONLY), os.open(source, os.O_RDONLY))
            # mostly small reads, some up to 1 MiB
            n = rng.choice([rng.randint(1, 4096), rng.randint(1, 65536),
                            rng.randint(1, 1 << 20)])
            n = min(n, size)
            off = rng.randrange(0, size - n + 1)
            try:
                got = os.pread(fds[i][0], n, off)
            except OSError as e:
                errors += 1
                if len(first) < 3:
                    first.append("%s: read of %d at %d: %s" % (mounted, n, off, e))
                continue
            want = os.pread(fds[i][1], n, off)
            reads += 1
            nbytes += len(got)
            if got != want:
                bad += 1
                if len(first) < 3:
                    first.append("%s: %d bytes at %d differ" % (mounted, n, off))
    finally:
        for a, b in fds.values():
            os.close(a)
            os.close(b)
    return reads, nbytes, bad, errors, first


def main():
    pairs = []
    for line in open(sys.argv[1]):
        m, s = line.rstrip("\n").split("\t")
        pairs.append((m, s, os.path.getsize(s)))
    seconds, n, seed = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    t0 = time.monotonic()
    with multiprocessing.Pool(n) as pool:
        res = pool.map(reader, [(pairs, seconds, seed + k) for k in range(n)])
    took = time.monotonic() - t0
    reads = sum(r[0] for r in res)
    nbytes = sum(r[1] for r in res)
    bad = sum(r[2] for r in res)
    errors = sum(r[3] for r in res)
    for r in res:
        for f in r[4]:
            print("  " + f)
    print("%d readers, %.0f s: %d reads, %.1f MiB compared, %.1f MiB/s, "
          "%d differing, %d failed" % (n, took, reads, nbytes / 1048576.0,
                                       nbytes / 1048576.0 / took, bad, errors))
    sys.exit(0 if reads and not bad and not errors else 1)


if __name__ == "__main__":
    main()
