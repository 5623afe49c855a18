#!/usr/bin/env python3
"""mkmd: a test-only writer of Linux md (mdadm) RAID arrays on member files.

The md driver is not available where the tests run, so mdadm cannot create
arrays; this tool writes what `mdadm --create` followed by the kernel's first
superblock update would leave on the members: a version 0.90 or 1.x
superblock on each member, and, with --data, the array's content laid out
as the md driver reads it (RAID0 stripes, also over members of different
sizes, RAID1 mirrors, RAID5 data and XOR parity, RAID10 "near" copies).

  mkmd.py size --level L --raid-devices N --member-size BYTES[,BYTES...]
               [--chunk KIB] [--layout NAME] [--metadata V]
               [--data-offset SECTORS]
      prints the size in bytes of the array the md driver would present;
      one size for all members, or one per member (by role, RAID0 only).

  mkmd.py create --level L --metadata V --uuid UUID --name NAME [--minor N]
                 [--chunk KIB] [--layout NAME] [--data-offset SECTORS]
                 [--events N] [--data IMAGE] [--verbose] MEMBER...
      MEMBER: an existing regular file or `missing`; all of the same size
      but for RAID0.  The position in the list is the member's role (raid
      disk number).

RAID0 over members of different sizes is md's multi-zone RAID0: zone 0
stripes over every member up to the smallest one's data area (each member's
rounded down to whole chunks), each further zone over the members (in role
order) that reach past the end of the previous one on the members.  Its
--layout: `original` (1; the member in a zone follows from the chunk's
number in the whole array, as before Linux 3.14) or `alternate` (2; from the
chunk's number within its zone).  A 1.x superblock records the layout (the
RAID0_LAYOUT feature; `original` unless asked, as mdadm 4.2 writes it); 0.90
records none (its layout word stays 0 and md takes raid0.default_layout), so
there --layout only places the data and is needed when the sizes differ.

Sources of the formats (read, not copied): the kernel's
include/uapi/linux/raid/md_p.h (superblock structures), drivers/md/md.c
(checksums, what the kernel writes for missing members), raid0.c
(create_strip_zones, find_zone, map_sector, raid0_make_request), raid5.c
(raid5_compute_sector), raid10.c (__raid10_find_phys, raid10_size); mdadm's
super0.c and super1.c (offsets, data_size, bad block log, defaults, the
RAID0 layout feature), Create.c (size rounding, default RAID0 layout) and
maps.c (layout names and numbers)."""
import argparse
import hashlib
import os
import stat
import struct
import sys
import time

SECTOR = 512
MD_SB_MAGIC = 0xA92B4EFC
# RAID5 layouts as mdadm names them (maps.c r5layout).  For RAID5 the DDF
# names are aliases of the md ones: mdadm writes the md number.
R5_LAYOUTS = {
    'left-asymmetric': 0, 'right-asymmetric': 1,
    'left-symmetric': 2, 'right-symmetric': 3,
    'parity-first': 4, 'parity-last': 5,
    'ddf-zero-restart': 1, 'ddf-N-restart': 0, 'ddf-N-continue': 2,
    'la': 0, 'ra': 1, 'ls': 2, 'rs': 3, 'default': 2,
}
# RAID0 layouts (raid0.h, mdadm maps.c r0layout)
RAID0_ORIG_LAYOUT, RAID0_ALT_MULTIZONE_LAYOUT = 1, 2
R0_LAYOUTS = {'original': RAID0_ORIG_LAYOUT, '1': RAID0_ORIG_LAYOUT,
              'alternate': RAID0_ALT_MULTIZONE_LAYOUT,
              '2': RAID0_ALT_MULTIZONE_LAYOUT}
R0_NAMES = {RAID0_ORIG_LAYOUT: 'original',
            RAID0_ALT_MULTIZONE_LAYOUT: 'alternate'}
MD_FEATURE_RAID0_LAYOUT = 0x1000
ROLE_FAULTY = 0xFFFE
ROLE_SPARE = 0xFFFF
DISK_FAULTY, DISK_ACTIVE, DISK_SYNC, DISK_REMOVED = 0, 1, 2, 3
HOMEHOST = 'vhdunlock-test'
METADATA = ('0.90', '1.0', '1.1', '1.2')


class Refused(Exception):
    """A request this tool refuses: message to stderr, exit 1."""


def r10_layout(name):
    """RAID10 layout word: near copies in bits 0-7, far copies in bits 8-15,
    bit 16 for "offset" (far copies in the next stripe, not the far half)."""
    if len(name) == 2 and name[0] in 'nfo' and name[1] in '23456789':
        k = int(name[1])
        if name[0] == 'n':
            return (1 << 8) | k
        return (k << 8) | 1 | (0x10000 if name[0] == 'o' else 0)
    raise Refused('unknown RAID10 layout %r (n2, n3, f2, o2, ...)' % name)


def choose_bm_space(sectors):
    """The room mdadm keeps for a bitmap next to a 1.x superblock (sectors),
    from the used size of a member; it places the bad block log after it."""
    if sectors < 64 * 2:
        return 0
    if sectors - 64 * 2 >= 200 * 1024 * 1024 * 2:
        return 128 * 2
    if sectors - 4 * 2 > 8 * 1024 * 1024 * 2:
        return 64 * 2
    return 4 * 2


class Place:
    """Where one member's superblock and data area lie, in sectors: they
    follow from the member's own size (0.90 and 1.0 keep the superblock at
    the end)."""

    def __init__(self, member):
        self.member = member
        self.super_offset = self.data_offset = self.avail = 0
        self.data_size = self.bblog_size = self.bblog_offset = 0


class Zone:
    """A RAID0 strip zone (raid0.h struct strip_zone): array sectors
    [start, end) striped over the data areas of `roles` (in role order)
    from their sector `dev_start` on."""

    def __init__(self, start, end, dev_start, roles):
        self.start, self.end = start, end
        self.dev_start, self.roles = dev_start, roles


class Geometry:
    """Everything about the array that follows from the arguments and the
    member sizes; all sizes and offsets in 512-byte sectors.  member_bytes:
    one size for every member, or a list of one per role (they may differ
    for RAID0 only)."""

    def __init__(self, level, n, member_bytes, metadata='1.2', chunk_kib=None,
                 layout=None, data_offset=None):
        if level not in (0, 1, 5, 10):
            raise Refused('level %s is not supported (0, 1, 5, 10)' % level)
        if metadata not in METADATA:
            raise Refused('metadata %s is not one of %s'
                          % (metadata, ', '.join(METADATA)))
        self.level, self.n, self.metadata = level, n, metadata
        if n < 2:
            raise Refused('at least 2 raid devices are needed')
        if n > (27 if metadata == '0.90' else 384):
            raise Refused('too many raid devices for metadata %s' % metadata)
        if isinstance(member_bytes, int):
            member_bytes = [member_bytes] * n
        if len(member_bytes) != n:
            raise Refused('%d member sizes for %d raid devices'
                          % (len(member_bytes), n))
        if level != 0 and len(set(member_bytes)) > 1:
            raise Refused('members differ in size: %s' % ', '.join(
                str(s) for s in sorted(set(member_bytes))))
        self._shape(chunk_kib, layout)
        self.places = [self._place(b // SECTOR, data_offset)
                       for b in member_bytes]
        self.member = self.places[0].member
        self.data_offset = self.places[0].data_offset
        self._sizes()

    def _shape(self, chunk_kib, layout):
        level = self.level
        if level == 1:
            if chunk_kib is not None:
                raise Refused('RAID1 has no chunk size')
            self.chunk = 0
        else:
            kib = 512 if chunk_kib is None else chunk_kib
            if kib < 4 or kib & (kib - 1):
                raise Refused('chunk %s KiB is not a power of 2 >= 4' % kib)
            self.chunk = kib * 2
        self.near = self.far = 1
        self.offset_layout = False
        if level == 1:
            if layout is not None:
                raise Refused('RAID1 takes no --layout')
            self.layout, self.layout_name = 0, '-'
        elif level == 0:
            if layout is not None and layout not in R0_LAYOUTS:
                raise Refused('unknown RAID0 layout %r (original, alternate)'
                              % layout)
            # where the data goes: None, not asked, is decided with the
            # zones
            self.r0_layout = R0_LAYOUTS.get(layout)
            if self.metadata == '0.90':
                # 0.90 has no word for it: mdadm writes 0 and md ignores
                # the field for RAID0 (super_90_validate)
                self.layout, self.layout_name = 0, '-'
            else:
                # mdadm 4.2's default, recorded with the RAID0_LAYOUT
                # feature
                self.r0_layout = self.r0_layout or RAID0_ORIG_LAYOUT
                self.layout = self.r0_layout
                self.layout_name = R0_NAMES[self.layout]
        elif level == 5:
            self.layout_name = layout or 'left-symmetric'
            if self.layout_name not in R5_LAYOUTS:
                raise Refused('unknown RAID5 layout %r' % self.layout_name)
            self.layout = R5_LAYOUTS[self.layout_name]
        else:
            self.layout_name = layout or 'n2'
            self.layout = r10_layout(self.layout_name)
            self.near = self.layout & 255
            self.far = (self.layout >> 8) & 255
            self.offset_layout = bool(self.layout & 0x10000)
            if self.near * self.far > self.n:
                raise Refused('%s needs at least %d devices'
                              % (self.layout_name, self.near * self.far))

    def _place(self, m, data_offset):
        """Superblock and data area positions on a member of m sectors."""
        p, meta = Place(m), self.metadata
        if meta == '0.90':
            if data_offset not in (None, 0):
                raise Refused('0.90 metadata keeps data at offset 0')
            if m < 2 * 128:
                raise Refused('members are too small for 0.90 metadata')
            # last 64 KiB-aligned 64 KiB (MD_NEW_SIZE_SECTORS)
            p.super_offset = (m & ~127) - 128
            p.data_offset = 0
            p.avail = p.super_offset
            return p
        if meta == '1.0':
            p.super_offset = (m - 16) & ~7
            p.data_offset = data_offset or 0
            p.avail = p.super_offset - p.data_offset
        else:
            p.super_offset = 0 if meta == '1.1' else 8
            p.data_offset = 2048 if data_offset is None else data_offset
            if p.data_offset < p.super_offset + 8:
                raise Refused('data offset %d overlaps the superblock'
                              % p.data_offset)
            p.avail = m - p.data_offset
        if m < 24 or p.avail <= 0:
            raise Refused('members are too small for metadata %s' % meta)
        return p

    def _sizes(self):
        """Used size of each member (the superblock's size field), the
        data_size of 1.x, and the size of the array."""
        lv, avail = self.level, self.places[0].avail
        if lv == 0:
            self.size = 0       # mdadm writes no size for RAID0
        elif lv == 1:
            self.size = avail & ~127    # Create.c: rounded to 64 KiB
        else:
            self.size = avail - avail % self.chunk
        if lv != 0 and self.size == 0:
            raise Refused('members are too small')
        for p in self.places:
            self._reserve(p)
        # what the md driver presents
        if lv == 0:
            self._zones()
        elif lv == 1:
            self.array = self.size
        elif lv == 5:
            self.array = self.size * (self.n - 1)
        else:
            chunks = self.size // self.chunk // self.far
            self.array = chunks * self.n // self.near * self.chunk

    def _reserve(self, p):
        """A member's data_size and bad block log, after the room mdadm
        keeps next to a 1.x superblock for a bitmap."""
        meta = self.metadata
        if meta == '1.0':
            bm = choose_bm_space(self.size) + 8
            bm = min(bm, p.avail - self.size)
            p.data_size = p.avail - bm
            if bm >= 8:
                p.bblog_size, p.bblog_offset = 8, -8
        elif meta in ('1.1', '1.2'):
            p.data_size = p.avail
            bm = choose_bm_space(self.size)
            if p.data_offset >= p.super_offset + 8 + bm + 8:
                p.bblog_size, p.bblog_offset = 8, 8 + bm
            elif p.data_offset >= p.super_offset + 16:
                p.bblog_size = 8
                p.bblog_offset = p.data_offset - 8 - p.super_offset
        else:
            p.data_size = p.avail

    def _zones(self):
        """RAID0's strip zones, as raid0.c create_strip_zones builds them:
        each member's data area in whole chunks; zone 0 over all members
        up to the smallest; each next zone over the members (in role order)
        larger than where the previous one ends on them, up to the smallest
        of those.  The array is all the zones (raid0_size: the sum of the
        rounded members)."""
        usable = [p.data_size - p.data_size % self.chunk for p in self.places]
        if min(usable) == 0:
            raise Refused('members are smaller than a chunk')
        self.zones = []
        start = dev_start = 0
        for edge in sorted(set(usable)):
            roles = [r for r, u in enumerate(usable) if u > dev_start]
            end = start + (edge - dev_start) * len(roles)
            self.zones.append(Zone(start, end, dev_start, roles))
            start, dev_start = end, edge
        self.array = start
        if self.r0_layout is None:
            if len(self.zones) > 1:
                raise Refused('0.90 records no RAID0 layout: members of '
                              'different sizes need --layout original or '
                              'alternate (the reader\'s '
                              'raid0.default_layout)')
            self.r0_layout = RAID0_ORIG_LAYOUT  # one zone: all the same

    def raid0_map(self, sector):
        """RAID0: the role holding array sector `sector` and the sector in
        its data area (raid0.c find_zone, map_sector, raid0_make_request)."""
        zone = next(z for z in self.zones if sector < z.end)
        in_zone = sector - zone.start
        k, c = len(zone.roles), self.chunk
        # the member: by the chunk's number in the whole array (original,
        # md before 3.14) or within its zone (alternate)
        pick = sector if self.r0_layout == RAID0_ORIG_LAYOUT else in_zone
        role = zone.roles[pick // c % k]
        # each row of the zone: one chunk on each of its k members (zones
        # start on whole chunks, so the offset in the chunk is the same)
        return role, zone.dev_start + in_zone // (c * k) * c + sector % c

    def describe(self):
        def each(attr):
            v = [getattr(p, attr) for p in self.places]
            return v[0] if len(set(v)) == 1 else ','.join(map(str, v))
        lines = [
            ('metadata', self.metadata), ('level', self.level),
            ('raid_devices', self.n), ('chunk_sectors', self.chunk),
            ('layout', '%s (%#x)' % (self.layout_name, self.layout)),
            ('member_sectors', each('member')),
            ('super_offset', each('super_offset')),
            ('data_offset', self.data_offset),
            ('data_size', each('data_size')), ('used_size', self.size),
            ('array_bytes', self.array * SECTOR),
        ]
        if self.level == 0:
            lines.append(('raid0_layout', R0_NAMES[self.r0_layout]))
            for i, z in enumerate(self.zones):
                lines.append(('zone%d' % i, 'array sectors %d-%d on roles %s'
                              ' from sector %d' % (
                                  z.start, z.end,
                                  ','.join(map(str, z.roles)), z.dev_start)))
        return ''.join('%s=%s\n' % kv for kv in lines)


def parse_uuid(text):
    hexd = ''.join(c for c in text if c not in '-:')
    try:
        raw = bytes.fromhex(hexd)
    except ValueError:
        raw = b''
    if len(raw) != 16:
        raise Refused('bad UUID %r (32 hex digits)' % text)
    return raw


def csum_fold(total):
    """md's checksum: a 64-bit sum of 32-bit words, folded once to 32."""
    return ((total & 0xFFFFFFFF) + (total >> 32)) & 0xFFFFFFFF


def super_090(geo, uuid, role, present, events, ctime, minor):
    """A 4096-byte 0.90 superblock for the member in `role` (host order:
    little-endian, as x86 writes it).  Fields by 32-bit word number."""
    w = [0] * 1024
    u = struct.unpack('>4I', uuid)  # mdadm prints each word as %08x
    w[0:5] = [MD_SB_MAGIC, 0, 90, 0, 0]
    w[5], w[13], w[14], w[15] = u
    w[6] = ctime
    w[7] = geo.level
    w[8] = geo.size // 2                # KiB
    w[9] = len(present)                 # nr_disks
    w[10] = geo.n
    w[11] = minor
    w[32] = ctime                       # utime
    w[33] = 1 << 0                      # state: clean
    w[34] = w[35] = len(present)        # active, working
    w[36] = geo.n - len(present)        # failed
    w[37] = 0                           # spare
    w[39], w[40] = events & 0xFFFFFFFF, events >> 32
    w[41], w[42] = w[39], w[40]         # checkpoint events: in sync
    w[43] = 0xFFFFFFFF                  # recovery_cp: MaxSector
    w[64] = geo.layout
    w[65] = geo.chunk * SECTOR          # bytes
    for i in range(geo.n):
        d = 128 + 32 * i
        if i in present:
            state = (1 << DISK_ACTIVE) | (1 << DISK_SYNC)
        else:   # what md.c super_90_sync writes for an empty slot
            state = (1 << DISK_FAULTY) | (1 << DISK_REMOVED)
        w[d:d + 5] = [i, 0, 0, i, state]
    w[992:992 + 5] = w[128 + 32 * role:128 + 32 * role + 5]
    w[38] = csum_fold(sum(w))
    return struct.pack('<1024I', *w)


def super_1(geo, uuid, name, role, present, events, ctime):
    """A 1.x superblock (all little-endian) for the member in `role`, padded
    to 4096 bytes.  Byte offsets from struct mdp_superblock_1."""
    sbsize = -(-(256 + 2 * geo.n) // 512) * 512
    max_dev = (sbsize - 256) // 2
    b = bytearray(4096)
    feature = MD_FEATURE_RAID0_LAYOUT if geo.level == 0 else 0
    struct.pack_into('<4I', b, 0, MD_SB_MAGIC, 1, feature, 0)
    b[16:32] = uuid
    set_name = ('%s:%s' % (HOMEHOST, name)).encode()
    b[32:32 + len(set_name)] = set_name
    struct.pack_into('<QiIQII', b, 64, ctime, geo.level, geo.layout,
                     geo.size, geo.chunk, geo.n)
    p = geo.places[role]
    struct.pack_into('<QQQQII', b, 128, p.data_offset, p.data_size,
                     p.super_offset, 0, role, 0)
    dev_uuid = hashlib.sha256(uuid + struct.pack('<I', role)).digest()[:16]
    b[168:184] = dev_uuid
    struct.pack_into('<BBHi', b, 184, 0, 0, p.bblog_size, p.bblog_offset)
    struct.pack_into('<QQQII', b, 192, ctime, events, 2**64 - 1, 0, max_dev)
    for i in range(max_dev):
        if i >= geo.n:
            r = ROLE_SPARE      # slot never used (mdadm fills with 0xffff)
        elif i in present:
            r = i
        else:
            r = ROLE_FAULTY     # what md.c super_1_sync writes for it
        struct.pack_into('<H', b, 256 + 2 * i, r)
    words = struct.unpack_from('<%dI' % (sbsize // 4), b)
    struct.pack_into('<I', b, 216, csum_fold(sum(words)))
    return bytes(b)


class Layout:
    """Places the array's content on the members: yields (role, byte offset
    in the member's data area, bytes) for every piece, the array zero-padded
    to its full size."""

    def __init__(self, geo, image):
        self.geo, self.image = geo, image
        self.cb = geo.chunk * SECTOR

    def chunk(self, c):
        self.image.seek(c * self.cb)
        data = self.image.read(self.cb)
        return data + bytes(self.cb - len(data))

    def pieces(self):
        return getattr(self, 'raid%d' % self.geo.level)()

    def raid1(self):
        step = 1 << 20
        total = self.geo.array * SECTOR
        self.image.seek(0)
        for off in range(0, total, step):
            data = self.image.read(min(step, total - off))
            data += bytes(min(step, total - off) - len(data))
            for role in range(self.geo.n):
                yield role, off, data

    def raid0(self):
        geo = self.geo
        for c in range(geo.array // geo.chunk):
            role, sector = geo.raid0_map(c * geo.chunk)
            yield role, sector * SECTOR, self.chunk(c)

    def raid5(self):
        n, lay = self.geo.n, self.geo.layout
        for row in range(self.geo.size // self.geo.chunk):
            datas = [self.chunk(row * (n - 1) + j) for j in range(n - 1)]
            parity = 0
            for d in datas:
                parity ^= int.from_bytes(d, 'little')
            pd, places = r5_place(row, n, lay)
            yield pd, row * self.cb, parity.to_bytes(self.cb, 'little')
            for j, d in enumerate(datas):
                yield places[j], row * self.cb, d

    def raid10(self):
        geo = self.geo
        for c in range(geo.array // geo.chunk):
            data = self.chunk(c)
            for k in range(geo.near):
                idx = c * geo.near + k
                yield idx % geo.n, idx // geo.n * self.cb, data


def r5_place(row, n, layout):
    """RAID5: the parity disk of stripe `row` and the disk of each of its
    n-1 data chunks, for md's layout numbers 0-5 (raid5_compute_sector)."""
    if layout in (0, 2):        # left: parity moves from the last disk down
        pd = n - 1 - row % n
    elif layout in (1, 3):      # right: parity moves from disk 0 up
        pd = row % n
    elif layout == 4:           # parity-first
        return 0, [j + 1 for j in range(n - 1)]
    else:                       # parity-last
        return n - 1, list(range(n - 1))
    if layout in (0, 1):        # asymmetric: data fills the disks in order
        return pd, [j + 1 if j >= pd else j for j in range(n - 1)]
    return pd, [(pd + 1 + j) % n for j in range(n - 1)]   # symmetric


def check_degraded(geo, present):
    """Refuse arrays md could not run: the content must still be whole."""
    missing = geo.n - len(present)
    if not present:
        raise Refused('all members are missing')
    if missing == 0:
        return
    if geo.level == 0:
        raise Refused('RAID0 has no redundancy: no member can be missing')
    if geo.level == 5 and missing > 1:
        raise Refused('RAID5 runs with at most one member missing')
    if geo.level == 10:
        # the copies of chunk c are near/far neighbours of disk c*near
        for c in range(geo.n):
            devs = set()
            for k in range(geo.near):
                d = (c * geo.near + k) % geo.n
                for f in range(geo.far):
                    devs.add((d + f * geo.near) % geo.n)
            if not devs & present:
                raise Refused('RAID10: every copy of some chunks would be '
                              'missing')


def member_size(path):
    try:
        st = os.stat(path)
    except OSError as e:
        raise Refused('member %s: %s' % (path, e.strerror))
    if not stat.S_ISREG(st.st_mode):
        raise Refused('member %s is not a regular file' % path)
    return st.st_size


def cmd_size(a):
    sizes = a.member_size   # one value: every member's
    geo = Geometry(a.level, a.raid_devices,
                   sizes[0] if len(sizes) == 1 else sizes, a.metadata,
                   a.chunk, a.layout, a.data_offset)
    print(geo.array * SECTOR)


def cmd_create(a):
    n = len(a.members)
    present = {i for i, m in enumerate(a.members) if m != 'missing'}
    sizes = {i: member_size(a.members[i]) for i in present}
    if a.level != 0 and len(set(sizes.values())) > 1:
        raise Refused('members differ in size: %s' % ', '.join(
            str(s) for s in sorted(set(sizes.values()))))
    if not present:
        raise Refused('all members are missing')
    if a.level == 0:
        # one zone layout from each member's own size; a missing one has
        # none, and check_degraded refuses it anyway
        if len(present) < n:
            raise Refused('RAID0 has no redundancy: no member can be '
                          'missing')
        member_bytes = [sizes[i] for i in range(n)]
    else:
        member_bytes = sizes[min(present)]
    geo = Geometry(a.level, n, member_bytes, a.metadata, a.chunk,
                   a.layout, a.data_offset)
    check_degraded(geo, present)
    if a.metadata != '0.90':
        if ':' in a.name or len(HOMEHOST) + 1 + len(a.name.encode()) > 32:
            raise Refused('name %r: no ":" and at most %d bytes'
                          % (a.name, 31 - len(HOMEHOST)))
    uuid = parse_uuid(a.uuid)
    if not 0 <= a.events < 2**64:
        raise Refused('events out of range')
    ctime = int(os.environ.get('SOURCE_DATE_EPOCH') or time.time())
    image = None
    if a.data is not None:
        if geo.level == 10 and geo.far > 1:
            raise Refused('--data: RAID10 %s layout is not written'
                          % geo.layout_name)
        try:
            image = open(a.data, 'rb')
            length = os.fstat(image.fileno()).st_size
        except OSError as e:
            raise Refused('--data %s: %s' % (a.data, e.strerror))
        if length > geo.array * SECTOR:
            raise Refused('--data %s: %d bytes do not fit in the array '
                          '(%d bytes)' % (a.data, length, geo.array * SECTOR))
    fds = {}
    try:
        for i in sorted(present):
            fds[i] = os.open(a.members[i], os.O_WRONLY)
        if image is not None:
            base = geo.data_offset * SECTOR
            for role, off, data in Layout(geo, image).pieces():
                if role in fds:
                    os.pwrite(fds[role], data, base + off)
        for i, fd in fds.items():
            if geo.metadata == '0.90':
                sb = super_090(geo, uuid, i, present, a.events, ctime,
                               a.minor)
            else:
                sb = super_1(geo, uuid, a.name, i, present, a.events, ctime)
            os.pwrite(fd, sb, geo.places[i].super_offset * SECTOR)
    except OSError as e:
        raise Refused('writing the members: %s' % e)
    finally:
        for fd in fds.values():
            os.close(fd)
        if image is not None:
            image.close()
    if a.verbose:
        sys.stdout.write(geo.describe())


def level_arg(text):
    t = text.lower()
    t = t[4:] if t.startswith('raid') else t
    names = {'0': 0, 'stripe': 0, '1': 1, 'mirror': 1, '5': 5, '10': 10}
    if t not in names:
        raise argparse.ArgumentTypeError('level %r: 0, 1, 5 or 10' % text)
    return names[t]


def sizes_arg(text):
    """--member-size: bytes, or a comma list of bytes, one per role"""
    try:
        return [int(x) for x in text.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError('%r: bytes, or bytes,bytes,... '
                                         'one per member' % text)


def main(argv=None):
    p = argparse.ArgumentParser(prog='mkmd.py', description=__doc__.split(
        '\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('size')
    s.add_argument('--raid-devices', type=int, required=True)
    s.add_argument('--member-size', type=sizes_arg, required=True)
    s.add_argument('--metadata', default='1.2')
    c = sub.add_parser('create')
    c.add_argument('--metadata', required=True)
    c.add_argument('--uuid', required=True)
    c.add_argument('--name', required=True)
    c.add_argument('--minor', type=int, default=0)
    c.add_argument('--events', type=int, default=1)
    c.add_argument('--data')
    c.add_argument('--verbose', action='store_true')
    c.add_argument('members', nargs='+', metavar='MEMBER')
    for x in (s, c):
        x.add_argument('--level', type=level_arg, required=True)
        x.add_argument('--chunk', type=int)
        x.add_argument('--layout')
        x.add_argument('--data-offset', type=int)
    a = p.parse_args(argv)
    try:
        cmd_size(a) if a.cmd == 'size' else cmd_create(a)
    except Refused as e:
        print('mkmd.py: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
