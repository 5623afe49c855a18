#!/usr/bin/env python3
"""md-writer-check: the Python half of tests/integration/md-writer.sh.

  md-writer-check.py make MKMD SPECS RANDOM MEMBER_BYTES
      for each array of SPECS: member files in arrID/, an image (the start
      of RANDOM, shorter than the array), `mkmd.py size` and `mkmd.py
      create` (run in this process, through mkmd's own command line: the
      test runs over sixty arrays and a Python start costs a quarter of a
      second here); then the data areas are checked against the image with
      layouts written out by hand from md(4), not with mkmd's formulas.
  md-writer-check.py examine SPECS MEMBER_BYTES
      checks arrID/examine.ROLE (`mdadm --examine` of each member's loop
      device) and arrID/scan (`mdadm --examine --scan`) against what was
      asked.

SPECS: one array a line, "ID META LEVEL LAYOUT NDEV MISSING CHUNK [SIZES]",
"-" for a default layout or chunk and for no missing role; SIZES, RAID0
only: each member's size in bytes, by role, comma separated (else all are
MEMBER_BYTES).  Prints "ok: ..." and
"FAIL: ..." lines; the shell counts the failures."""
import contextlib
import importlib.util
import io
import os
import re
import sys

KIB = 1024
MIB = 1024 * KIB
# RAID5 on 3 disks, from md(4) and raid5.c's comments: the disk of data
# chunk 0, data chunk 1 and the parity of stripes 0, 1 and 2.
R5_TABLE = {
    'left-asymmetric': ((0, 1, 2), (0, 2, 1), (1, 2, 0)),
    'right-asymmetric': ((1, 2, 0), (0, 2, 1), (0, 1, 2)),
    'left-symmetric': ((0, 1, 2), (2, 0, 1), (1, 2, 0)),
    'right-symmetric': ((1, 2, 0), (2, 0, 1), (0, 1, 2)),
    'parity-first': ((1, 2, 0),) * 3,
    'parity-last': ((0, 1, 2),) * 3,
}
# for RAID5 mdadm's DDF names are aliases: it writes and shows these
R5_ALIAS = {'ddf-N-restart': 'left-asymmetric',
            'ddf-zero-restart': 'right-asymmetric',
            'ddf-N-continue': 'left-symmetric', '-': 'left-symmetric'}
R10_SHOWN = {'-': 'near=2', 'n2': 'near=2', 'n3': 'near=3',
             'f2': 'far=2', 'o2': 'offset=2'}

failures = 0


def ok(msg):
    print('ok: ' + msg)


def fail(msg):
    global failures
    failures += 1
    print('FAIL: ' + msg)


def expect(label, want, got):
    if want == got:
        ok('%s: %s' % (label, got))
    else:
        fail('%s: %r, expected %r' % (label, got, want))


class Spec:
    def __init__(self, line):
        f = line.split()
        self.id, self.meta, self.level = int(f[0]), f[1], int(f[2])
        self.layout, self.n = f[3], int(f[4])
        self.missing = None if f[5] == '-' else int(f[5])
        self.chunk = None if f[6] == '-' else int(f[6])
        self.sizes = [int(x) for x in f[7].split(',')] if len(f) > 7 else None
        self.dir = 'arr%d' % self.id
        self.uuid = '6d6b6d64-%04x-4000-8000-00000000%04x' % (self.id,
                                                               self.id)
        self.name = 'a%d' % self.id
        self.events = 100 + self.id
        self.minor = self.id % 100
        self.title = '%s raid%d %s n=%d%s%s' % (
            self.meta, self.level, self.layout, self.n,
            '' if self.missing is None else ' role %d missing' % self.missing,
            '' if self.sizes is None else ' sizes %s KiB' % ','.join(
                str(b // KIB) for b in self.sizes))
        # RAID10 far and offset copies are not written
        self.with_data = self.level != 10 or self.layout[0] not in 'fo'
        self.base = 2048 * 512 if self.meta in ('1.1', '1.2') else 0
        self.chunk_bytes = (self.chunk or 512) * KIB

    def members(self):
        return ['missing' if r == self.missing else '%s/m%d' % (self.dir, r)
                for r in range(self.n)]

    def opts(self):
        o = ['--level', str(self.level)]
        if self.layout != '-':
            o += ['--layout', self.layout]
        if self.chunk:
            o += ['--chunk', str(self.chunk)]
        return o

    def member_bytes(self, default):
        """each role's member size"""
        return self.sizes or [default] * self.n

    def size(self):
        with open(self.dir + '/size') as f:
            return int(f.read())


def load_mkmd(path):
    spec = importlib.util.spec_from_file_location('mkmd', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_mkmd(mkmd, argv):
    """mkmd.py's command line, in this process: (exit status, stdout, err)"""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            st = mkmd.main(argv)
        except SystemExit as e:
            st = e.code
    return st, out.getvalue(), err.getvalue()


def read_at(path, off, length):
    with open(path, 'rb') as f:
        f.seek(off)
        return f.read(length)


def make(mkmd_path, specs, random_path, member_bytes):
    mkmd = load_mkmd(mkmd_path)
    with open(random_path, 'rb') as f:
        random_bytes = f.read()
    for s in specs:
        os.mkdir(s.dir)
        sizes = s.member_bytes(member_bytes)
        st, out, err = run_mkmd(mkmd, ['size'] + s.opts() + [
            '--raid-devices', str(s.n), '--member-size',
            ','.join(map(str, sizes)), '--metadata', s.meta])
        if st != 0 or not re.fullmatch(r'[0-9]+\n', out):
            fail('%s: mkmd.py size: %s %r %s' % (s.title, st, out, err))
            continue
        size = int(out)
        with open(s.dir + '/size', 'w') as f:
            f.write(out)
        for m, b in zip(s.members(), sizes):
            if m != 'missing':
                with open(m, 'wb') as f:
                    f.truncate(b)
        argv = ['create'] + s.opts() + [
            '--metadata', s.meta, '--uuid', s.uuid, '--name', s.name,
            '--minor', str(s.minor), '--events', str(s.events)]
        # the image stops short of the array's end: the rest is padding
        padded = None
        if s.with_data:
            image = random_bytes[:size - 70000]
            padded = image + bytes(size - len(image))
            with open(s.dir + '/image', 'wb') as f:
                f.write(image)
            argv += ['--data', s.dir + '/image']
        st, out, err = run_mkmd(mkmd, argv + s.members())
        if st != 0 or out or err:
            fail('%s: mkmd.py create: %s %r %r' % (s.title, st, out, err))
            continue
        if padded is not None:
            check_layout(s, size, padded)


def check_layout(s, size, padded):
    C = s.chunk_bytes
    areas = {}
    for r, m in enumerate(s.members()):
        if m != 'missing':
            areas[r] = read_at(m, s.base, size)

    def chunk_of(k):
        return padded[k * C:(k + 1) * C]

    def on_disk(r, row):
        return areas[r][row * C:(row + 1) * C]

    if s.level == 1 or (s.level == 10 and s.layout == 'n3' and s.n == 3):
        # every member is a whole copy of the array
        for r, a in areas.items():
            expect('%s: member %d holds the padded image' % (s.title, r),
                   True, a == padded)
    elif s.level == 10:
        # n2 on 4 disks: chunk k on disks 2k%4 and 2k%4+1, row k/2
        assert s.n == 4 and s.layout in ('-', 'n2')
        last = size // C - 1
        for k in (0, 1, 2, 3, 6, last):
            for c in (0, 1):
                expect('%s: chunk %d copy %d' % (s.title, k, c), True,
                       on_disk(k * 2 % 4 + c, k // 2) == chunk_of(k))
    elif s.level == 5:
        assert s.n == 3
        rows = size // 2 // C
        if s.missing is not None:
            # the missing member: the XOR of the others
            x = 0
            for a in areas.values():
                x ^= int.from_bytes(a[:rows * C], 'little')
            areas[s.missing] = x.to_bytes(rows * C, 'little')
            ok('%s: role %d rebuilt from the others' % (s.title, s.missing))
        else:
            bad = []
            for row in range(rows):
                x = 0
                for a in areas.values():
                    x ^= int.from_bytes(a[row * C:(row + 1) * C], 'little')
                if x:
                    bad.append(row)
            expect('%s: stripes whose members do not XOR to zero (of %d)'
                   % (s.title, rows), [], bad)
        table = R5_TABLE[R5_ALIAS.get(s.layout, s.layout)]
        for row in range(3):
            d0, d1, p = table[row]
            for j, d in enumerate((d0, d1)):
                expect('%s: stripe %d data %d on disk %d'
                       % (s.title, row, j, d), True,
                       on_disk(d, row) == chunk_of(row * 2 + j))
            x = (int.from_bytes(chunk_of(row * 2), 'little') ^
                 int.from_bytes(chunk_of(row * 2 + 1), 'little'))
            expect('%s: stripe %d parity on disk %d' % (s.title, row, p),
                   True, on_disk(p, row) == x.to_bytes(C, 'little'))
    # RAID0: hand-computed positions, checked with dd by the shell


def hexcolon(uuid):
    h = uuid.replace('-', '')
    return ':'.join(h[i:i + 8] for i in range(0, 32, 8))


def fields(text):
    """mdadm --examine's "Name : value" lines; the first of each name"""
    out = {}
    for line in text.splitlines():
        m = re.match(r'\s*([A-Za-z][A-Za-z \']*?) : (.*)$', line)
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2)
    return out


def examine(specs, member_bytes):
    for s in specs:
        try:
            size = s.size()
        except OSError:
            fail('%s: no size recorded' % s.title)
            continue
        present = [r for r in range(s.n) if r != s.missing]
        state = ''.join('.' if r == s.missing else 'A' for r in range(s.n))
        if s.level == 5:
            layout = R5_ALIAS.get(s.layout, s.layout)
        elif s.level == 10:
            layout = R10_SHOWN[s.layout]
        elif s.level == 0 and s.meta != '0.90':
            # mdadm 4.2's default; 0.90 records none
            layout = 'original' if s.layout == '-' else s.layout
        else:
            layout = None
        usable = {}     # RAID0: each role's data area in whole chunks
        for r in present:
            p = '%s role %d' % (s.title, r)
            try:
                with open('%s/examine.%d' % (s.dir, r)) as f:
                    text = f.read()
            except OSError:
                fail('%s: no mdadm --examine output' % p)
                continue
            f = fields(text)
            expect(p + ': Magic', 'a92b4efc', f.get('Magic'))
            expect(p + ': Raid Level', 'raid%d' % s.level,
                   f.get('Raid Level'))
            expect(p + ': Raid Devices', str(s.n), f.get('Raid Devices'))
            expect(p + ': Layout', layout, f.get('Layout'))
            expect(p + ': Chunk Size',
                   None if s.level == 1 else '%dK' % (s.chunk or 512),
                   f.get('Chunk Size'))
            expect(p + ': Events', str(s.events), f.get('Events'))
            expect(p + ': State', 'clean', f.get('State'))
            csum = f.get('Checksum', '')
            expect(p + ': Checksum correct', True,
                   csum.endswith(' - correct'))
            if s.meta == '0.90':
                expect(p + ': Version', '0.90.00', f.get('Version'))
                expect(p + ': UUID', hexcolon(s.uuid), f.get('UUID'))
                expect(p + ': Preferred Minor', str(s.minor),
                       f.get('Preferred Minor'))
                expect(p + ': Total Devices', str(len(present)),
                       f.get('Total Devices'))
                expect(p + ': Active Devices', str(len(present)),
                       f.get('Active Devices'))
                expect(p + ': Failed Devices', str(s.n - len(present)),
                       f.get('Failed Devices'))
                rows = disk_rows(text)
                expect(p + ': this disk (number, raid disk, state)',
                       (str(r), str(r), 'active sync'), rows.get('this'))
                for d in range(s.n):
                    want = ('faulty removed' if d == s.missing
                            else 'active sync')
                    expect('%s: disk %d row' % (p, d), (str(d), str(d), want),
                           rows.get(str(d)))
            else:
                expect(p + ': Version', s.meta, f.get('Version'))
                expect(p + ': Array UUID', hexcolon(s.uuid),
                       f.get('Array UUID'))
                expect(p + ': Name', 'vhdunlock-test:' + s.name,
                       f.get('Name'))
                expect(p + ': Device Role', 'Active device %d' % r,
                       f.get('Device Role'))
                expect(p + ': Array State', state + " ('A' == active, "
                       "'.' == missing, 'R' == replacing)",
                       f.get('Array State'))
                expect(p + ': Data Offset',
                       None if s.meta == '1.0' else '2048 sectors',
                       f.get('Data Offset'))
            asize = f.get('Array Size')
            if s.level == 0:
                # mdadm shows no array or used size for RAID0: each
                # member's data area, the 0.90 one ending 64 KiB-aligned
                # 64 KiB before the end, the 1.x one in Avail Dev Size
                expect(p + ': Array Size', None, asize)
                expect(p + ': Used Dev Size', None, f.get('Used Dev Size'))
                mb = s.member_bytes(member_bytes)[r]
                if s.meta == '0.90':
                    avail = (mb // 65536 - 1) * 65536
                else:
                    avail = int(f.get('Avail Dev Size', '0 ').split()[0]) * 512
                    # what mdadm's write_init_super1 leaves for RAID0 (no
                    # used size, so no bitmap room): 1.1 and 1.2 from the
                    # data offset to the end, 1.0 up to the 4 KiB bad block
                    # log below the superblock (8-12 KiB from the end)
                    if s.meta == '1.0':
                        want = ((mb // 512 - 16) // 8 * 8 - 8) * 512
                    else:
                        want = mb - 2048 * 512
                    expect(p + ': Avail Dev Size (bytes)', want, avail)
                usable[r] = avail - avail % s.chunk_bytes
            else:
                got = int(asize.split()[0]) * KIB if asize else None
                expect(p + ': Array Size = mkmd.py size', size, got)
        if s.level == 0 and len(usable) == s.n:
            expect(s.title + ': RAID0 size by hand (sum of the zones) = '
                   'mkmd.py size', raid0_zones_bytes(usable.values()), size)
        check_scan(s)


def raid0_zones_bytes(usable):
    """md's RAID0 size from each member's data area in whole chunks, zone
    by zone (raid0.c create_strip_zones): a zone ends where the smallest
    member still in it ends, and holds that much of each of its members."""
    total = prev_end = 0
    for end in sorted(set(usable)):
        members = len([u for u in usable if u > prev_end])
        total += (end - prev_end) * members
        prev_end = end
    return total


def disk_rows(text):
    """0.90's disk table: row name -> (number, raid disk, state)"""
    rows = {}
    for line in text.splitlines():
        w = line.split()
        if len(w) >= 6 and (w[0] == 'this' or w[0].isdigit()) and \
                all(x.isdigit() for x in w[1:5]):
            rows[w[0]] = (w[1], w[4], ' '.join(w[5:]))
    return rows


def check_scan(s):
    try:
        with open(s.dir + '/scan') as f:
            lines = [ln for ln in f.read().splitlines()
                     if ln.startswith('ARRAY ')]
    except OSError:
        lines = []
    expect(s.title + ': --examine --scan ARRAY lines', 1, len(lines))
    if len(lines) != 1:
        return
    w = lines[0].split()
    uuids = [x for x in w if x.startswith('UUID=')]
    expect(s.title + ': --examine --scan UUID', ['UUID=' + hexcolon(s.uuid)],
           uuids)
    if s.meta == '0.90':
        expect(s.title + ': --examine --scan device', '/dev/md%d' % s.minor,
               w[1])
    else:
        expect(s.title + ': --examine --scan name', '/dev/md/' + s.name,
               w[1])
        expect(s.title + ': --examine --scan metadata', True,
               'metadata=' + s.meta in w)


def main():
    cmd = sys.argv[1]
    if cmd == 'make':
        mk, spec_file, random_path, member = sys.argv[2:6]
    else:
        spec_file, member = sys.argv[2:4]
    with open(spec_file) as f:
        specs = [Spec(line) for line in f if line.strip()]
    if not specs:
        fail('no arrays in ' + spec_file)
    elif cmd == 'make':
        make(mk, specs, random_path, int(member))
    else:
        examine(specs, int(member))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
