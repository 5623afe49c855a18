/* What one 512-byte unit of a volume's sealed area looks like: ciphertext
 * (random bytes), zeros or one repeated byte (never written, or erased),
 * a known plaintext structure (NTFS, ext, XFS, registry), text, or data
 * that is neither random nor recognised.  Ciphertext of any sector is
 * indistinguishable from random bytes; everything else in an encrypted
 * area was never encrypted. */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <sys/types.h>

#include "audit/audit_int.h"
#include "core/bytes.h"

/* Below this many bits a byte, 512 bytes are not ciphertext: random
 * 512-byte units average 7.64 bits with a spread of about 0.03, so a
 * threshold half a bit lower is never crossed by ciphertext by chance. */
#define CIPHER_MIN_ENTROPY 7.2
/* Printable runs this long are text (a sentence, a path list, a log). */
#define TEXT_RUN 128
#define UTF16_RUN 64

static double clog_table[AUDIT_UNIT + 1]; /* c * log2(c) */
static pthread_once_t clog_once = PTHREAD_ONCE_INIT;

static void clog_init(void)
{
	for (size_t c = 1; c <= AUDIT_UNIT; c++)
		clog_table[c] = (double)c * log2((double)c);
}

double audit_entropy(const uint8_t *s, size_t n)
{
	unsigned hist[256] = { 0 };
	double sum = 0;

	pthread_once(&clog_once, clog_init);
	if (!n || n > AUDIT_UNIT)
		return 0;
	for (size_t i = 0; i < n; i++)
		hist[s[i]]++;
	for (size_t b = 0; b < 256; b++)
		sum += clog_table[hist[b]];
	return log2((double)n) - sum / (double)n;
}

/* 1 for printable ASCII, tab, CR and LF: a table, so that the runs below
 * are counted without a branch per byte (a --full audit classifies every
 * unit of the volume). */
static uint8_t text_table[256];
static pthread_once_t text_once = PTHREAD_ONCE_INIT;

static void text_init(void)
{
	for (int c = 0x20; c < 0x7f; c++)
		text_table[c] = 1;
	text_table['\t'] = text_table['\n'] = text_table['\r'] = 1;
}

/* The longest run of printable ASCII, and of UTF-16LE printable ASCII
 * (Windows keeps most strings so), in characters. */
static void text_runs(const uint8_t *s, size_t n, size_t *ascii,
		      size_t *utf16)
{
	size_t run = 0, best = 0, r16[2] = { 0, 0 }, best16 = 0;

	pthread_once(&text_once, text_init);
	for (size_t i = 0; i < n; i++) {
		run = (run + 1) & (size_t)-(ssize_t)text_table[s[i]];
		best = run > best ? run : best;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		size_t *r = &r16[i & 1];
		*r = (*r + 1) & (size_t)-(ssize_t)(text_table[s[i]] & !s[i + 1]);
		best16 = *r > best16 ? *r : best16;
	}
	*ascii = best;
	*utf16 = best16;
}

static int magic(const uint8_t *s, const char *m)
{
	return !memcmp(s, m, strlen(m));
}

/* NTFS multi-sector records: FILE, INDX, RCRD, RSTR with a plausible
 * update sequence array (offset and count inside the record). */
static const char *ntfs_record(const uint8_t *s)
{
	static const struct { const char *magic, *what; } kinds[] = {
		{ "FILE", "NTFS file record" },
		{ "INDX", "NTFS index record" },
		{ "RCRD", "NTFS log record" },
		{ "RSTR", "NTFS log restart area" },
	};
	uint16_t usa_off = vu_le16(s + 4), usa_count = vu_le16(s + 6);

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (magic(s, kinds[i].magic) && usa_off >= 0x28 &&
		    usa_off < 0x200 && usa_count >= 2 && usa_count <= 33 &&
		    usa_off + 2u * usa_count <= AUDIT_UNIT)
			return kinds[i].what;
	return NULL;
}

/* An ext2/3/4 superblock (at a 1024-byte boundary, so at a unit's start)
 * or the first block of a directory ("." then ".."). */
static const char *ext_structure(const uint8_t *s)
{
	if (vu_le16(s + 56) == 0xEF53 && vu_le32(s + 24) <= 6 && vu_le32(s) &&
	    vu_le32(s + 4) && vu_le32(s + 20) <= 1)
		return "ext superblock";
	if (vu_le32(s) && vu_le16(s + 4) == 12 && s[6] == 1 && s[8] == '.' &&
	    vu_le32(s + 12) && vu_le16(s + 16) >= 12 && s[18] == 2 &&
	    s[20] == '.' && s[21] == '.')
		return "ext directory block";
	return NULL;
}

/* Version 5 metadata blocks carry their own block number, a 64-bit count
 * of 512-byte units far below 2^40: its high bytes are zero. */
static int small_be64(const uint8_t *p)
{
	return !p[0] && !p[1] && !p[2];
}

/* XFS metadata: a magic number and fields with few possible values, so
 * that random bytes match with a chance far below one in 2^40 a unit. */
static const char *xfs_structure(const uint8_t *s)
{
	uint32_t bs = vu_be32(s + 4);

	if (magic(s, "XFSB") && bs >= 512 && bs <= 65536 && vu_is_pow2(bs))
		return "XFS superblock";
	if ((magic(s, "XAGF") || magic(s, "XAGI")) && vu_be32(s + 4) == 1)
		return "XFS allocation group header";
	if ((magic(s, "XDB3") || magic(s, "XDD3") || magic(s, "XDF3")) &&
	    small_be64(s + 8))
		return "XFS directory block";
	if ((magic(s, "XD2B") || magic(s, "XD2D")) && !((s[5] | s[7] |
	    s[9] | s[11] | s[13] | s[15]) & 7))
		return "XFS directory block"; /* 8-byte aligned free spaces */
	if ((magic(s, "AB3B") || magic(s, "AB3C") || magic(s, "IAB3") ||
	     magic(s, "FIB3")) && !s[4] && s[5] < 9 && small_be64(s + 16))
		return "XFS btree block";
	if (magic(s, "BMA3") && !s[4] && s[5] < 9 && small_be64(s + 24))
		return "XFS btree block";
	/* an inode: "IN", a file type, version 2 or 3, a data fork format,
	 * a link count below 65536 (and for version 3 its own number) */
	if (s[0] == 'I' && s[1] == 'N' && (s[4] == 2 || s[4] == 3) &&
	    s[5] >= 1 && s[5] <= 3 && !s[16] && !s[17] &&
	    (s[4] == 2 || small_be64(s + 152))) {
		unsigned type = (unsigned)(s[2] << 8 | s[3]) & 0170000;
		if (type == 0100000 || type == 0040000 || type == 0120000)
			return "XFS inode";
	}
	return NULL;
}

static const char *other_structure(const uint8_t *s)
{
	/* hive major version 1, minor 3 to 6 */
	if (magic(s, "regf") && vu_le32(s + 20) == 1 && vu_le32(s + 24) >= 3 &&
	    vu_le32(s + 24) <= 6)
		return "registry hive header";
	/* a bin: offset and size in whole 4 KiB pages */
	if (magic(s, "hbin") && !(vu_le32(s + 4) & 4095) &&
	    vu_le32(s + 8) >= 4096 && !(vu_le32(s + 8) & 4095))
		return "registry hive bin";
	return NULL;
}

enum audit_class audit_classify(const uint8_t *s, size_t n, const char **what)
{
	size_t ascii, utf16, same = 1;
	const char *w = NULL;

	*what = NULL;
	if (n < AUDIT_UNIT)
		return AUDIT_LOW_ENTROPY; /* callers give whole units */
	while (same < n && s[same] == s[0])
		same++;
	if (same == n)
		return s[0] ? AUDIT_FILL : AUDIT_ZERO;
	if (!w)
		w = ntfs_record(s);
	if (!w)
		w = ext_structure(s);
	if (!w)
		w = xfs_structure(s);
	if (!w)
		w = other_structure(s);
	if (!w) {
		text_runs(s, n, &ascii, &utf16);
		if (ascii >= TEXT_RUN)
			w = "text";
		else if (utf16 >= UTF16_RUN)
			w = "UTF-16 text";
	}
	if (w) {
		*what = w;
		return AUDIT_PLAINTEXT;
	}
	return audit_entropy(s, n) >= CIPHER_MIN_ENTROPY ? AUDIT_CIPHERTEXT
							 : AUDIT_LOW_ENTROPY;
}
