/* Audit: what of a disk can be read without any key.  For each volume a
 * verdict and the evidence behind it: plain file systems and their files,
 * BitLocker and LUKS parameters, the ranges left unencrypted (the tail of a
 * partly encrypted BitLocker volume, the plaintext segment of an
 * interrupted LUKS2 reencryption, a clear key), and a sample of every
 * sealed area: ciphertext must look random, and known plaintext (NTFS
 * records, ext and XFS metadata, registry hives, text) must not appear.
 * Content found is described, never copied into the report. */
#ifndef VU_AUDIT_H
#define VU_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "disk/disk.h"

enum vu_audit_verdict {
	VU_AUDIT_SEALED,   /* encrypted, nothing readable found */
	VU_AUDIT_EXPOSED,  /* file data readable without a key */
	VU_AUDIT_EXPECTED, /* plain, but holds no user data by design (EFI,
			      BIOS boot, /boot, Windows recovery, MSR) */
	VU_AUDIT_EMPTY,    /* nothing but zeros (or one repeated byte) */
	VU_AUDIT_CONTAINER,/* a plain LVM PV: its LVs have their own verdicts */
	VU_AUDIT_MD,	   /* a plain md RAID member: its array has its own */
	VU_AUDIT_ERROR,    /* could not be read */
};

/* A byte range of a volume (of its stored content). */
struct vu_audit_range {
	uint64_t offset, length;
	const char *what; /* "NTFS file record", "not encrypted", ... */
};

/* Classes of 512-byte units met in sealed areas. */
enum audit_class {
	AUDIT_CIPHERTEXT,  /* random-looking */
	AUDIT_ZERO,	   /* all zero */
	AUDIT_FILL,	   /* one byte repeated */
	AUDIT_PLAINTEXT,   /* a known structure or text */
	AUDIT_LOW_ENTROPY, /* neither random nor recognised */
	AUDIT_NCLASSES
};

struct vu_audit_scan {
	uint64_t area_bytes;	/* bytes of the sealed areas */
	uint64_t sampled_bytes; /* bytes read and classified */
	uint64_t units[AUDIT_NCLASSES];
	size_t nfound;		/* plaintext and low-entropy ranges, merged */
	struct vu_audit_range *found;
	uint64_t found_bytes;	/* their total */
	size_t dropped;		/* ranges beyond what is kept */
};

struct vu_audit_volume {
	const struct vu_volume *v;
	enum vu_audit_verdict verdict;
	char reason[512];	/* why, in one line */
	char role[64];		/* "EFI System", "boot", ... or "" */
	size_t nexposed;	/* ranges readable without a key */
	struct vu_audit_range *exposed;
	int scanned;
	struct vu_audit_scan scan;
	int fs_counted;		/* a file system was walked */
	const char *fs_kind;
	uint64_t files, dirs;
	char header_note[256];	/* a detached LUKS header it holds, or "" */
};

struct vu_audit_opts {
	double fraction;	/* of each sealed area to sample, (0, 1] */
	int full;		/* read all of it */
	/* progress over the bytes to be sampled (may be NULL) */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *arg;
};

struct vu_audit_report {
	size_t n;
	struct vu_audit_volume *vols;
	int exposed;		/* a volume's verdict is VU_AUDIT_EXPOSED */
};

/* Audit every volume of d (opened, and given to vu_disk_unlock with an
 * empty keyring so that LVs, clear keys and ADE headers are found). */
int vu_audit(struct vu_disk *d, const struct vu_audit_opts *o,
	     struct vu_audit_report **out);
void vu_audit_report_free(struct vu_audit_report *r);
const char *vu_audit_verdict_name(enum vu_audit_verdict v);
const char *vu_audit_class_name(enum audit_class c);

/* The class of one 512-byte unit (n must be 512); *what names a
 * plaintext structure.  Exposed for tests and fuzzing. */
enum audit_class audit_classify(const uint8_t *s, size_t n,
				const char **what);
/* Shannon entropy of up to 512 bytes, in bits per byte. */
double audit_entropy(const uint8_t *s, size_t n);

#endif
