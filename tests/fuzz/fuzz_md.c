/* Fuzz target: md superblocks and the assembly.  The input is one to
 * three members: byte 0 says how many (1 + byte % 3) and, bit by bit
 * from bit 2, whether each member's bytes sit at its start (1.1, 1.2) or
 * end at its end (1.0, 0.90); the rest is split evenly between them.
 * Every member is MEMBER bytes, zero-padded.  The members are scanned
 * and assembled; every array's info and roles are read, and a little of
 * its start and end.  Seeds are members written by tests/tools/mkmd.py. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"
#include "md/md.h"

#define MEMBER (192u << 10)
#define MAXM 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_array(struct vu_md_array *a)
{
	struct vu_md_info mi;
	struct vu_blk *b = NULL;
	uint8_t buf[8192];

	vu_md_array_info(a, &mi);
	for (unsigned i = 0; i < mi.raid_disks; i++) {
		const char *label;
		uint64_t at;

		if (vu_md_array_role(a, i, &label, &at) < 0)
			break;
	}
	if (vu_md_array_open(a, &b) == 0 && b->size) {
		size_t n = b->size < sizeof(buf) ? (size_t)b->size
						 : sizeof(buf);

		(void)vu_blk_read(b, buf, n, 0);
		(void)vu_blk_read(b, buf, n, b->size - n);
		(void)vu_blk_read(b, buf, 1, b->size / 2);
	}
	vu_blk_unref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_md_member *ms[MAXM] = { NULL };
	struct vu_md_assembly a;
	uint8_t *img[MAXM] = { NULL };
	size_t n, nm = 0, part;

	if (size < 1)
		return 0;
	vu_log_set_sink(NULL, NULL);
	vu_err_clear();
	n = 1 + (data[0] & 3) % MAXM;
	part = (size - 1) / n;
	if (part > MEMBER)
		part = MEMBER;
	for (size_t i = 0; i < n; i++) {
		struct vu_blk *b = NULL;
		const uint8_t *p = data + 1 + i * part;
		int at_end = data[0] >> (2 + i) & 1;

		img[i] = calloc(1, MEMBER);
		if (!img[i])
			break;
		memcpy(img[i] + (at_end ? MEMBER - part : 0), p, part);
		if (vu_mem_open(img[i], MEMBER, "fuzz", &b) < 0)
			break;
		if (vu_md_scan(b, i == 0 ? "m0" : i == 1 ? "m1" : "m2",
			       &ms[nm]) == 0)
			nm++;
		vu_err_clear();
		vu_blk_unref(b);
	}
	if (vu_md_assemble(ms, nm, NULL, 0, &a) == 0) {
		for (size_t i = 0; i < a.n; i++)
			read_array(a.arrays[i]);
		vu_md_assembly_free(&a);
	}
	for (size_t i = 0; i < n; i++)
		free(img[i]);
	return 0;
}
