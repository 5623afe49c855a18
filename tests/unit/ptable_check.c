/* Checks the partition-table unit tests share (see ptable_check.h), so
 * that test_mbr and test_gpt judge a parse by the same rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <json.h>

#include "ptable_check.h"
#include "shell.h"

#include "core/blk.h"
#include "core/error.h"

int ut_parse_buf(const uint8_t *d, size_t len, uint32_t ss,
		 struct vu_ptable *t)
{
	struct vu_blk *disk;
	int r;

	vu_err_clear();
	assert_int_equal(vu_mem_open(d, len, "t", &disk), 0);
	disk->sector_size = ss;
	r = vu_ptable_read(disk, t);
	vu_blk_unref(disk);
	return r;
}

int ut_file_table(const char *name, uint32_t ss, struct vu_ptable *t)
{
	char path[512];
	struct vu_blk *disk;
	int r;

	snprintf(path, sizeof(path), "%s/%s", ut_tmpdir, name);
	vu_err_clear();
	assert_int_equal(vu_file_open(path, &disk), 0);
	if (ss)
		disk->sector_size = ss;
	r = vu_ptable_read(disk, t);
	vu_blk_unref(disk);
	return r;
}

int ut_case_failed(const char *name, int r, int want,
		   const struct vu_ptable *t, const char *msg)
{
	if (r != want)
		fail_msg("%s: returned %d (%s), expected %d", name, r,
			 vu_errmsg(r), want);
	if (r >= 0)
		return 0;
	assert_int_equal(t->count, 0);
	assert_null(t->parts);
	if (msg)
		ut_assert_has(vu_errmsg(r), msg);
	return 1;
}

void ut_assert_has(const char *text, const char *want)
{
	char buf[512], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", want);
	for (char *w = strtok_r(buf, "|", &save); w;
	     w = strtok_r(NULL, "|", &save))
		if (!strstr(text, w))
			fail_msg("\"%s\" lacks \"%s\"", text, w);
}

void ut_check_sane(int r, const struct vu_ptable *t, size_t len)
{
	if (r < 0) {
		assert_true(r == -EUCLEAN || r == -EIO);
		assert_int_equal(t->count, 0);
		assert_null(t->parts);
		return;
	}
	assert_int_equal(r, 0);
	for (size_t i = 0; i < t->count; i++) {
		const struct vu_part *p = &t->parts[i];

		assert_true(p->size > 0);
		assert_true(p->start > 0);
		assert_true(p->start + p->size <= len);
		assert_true(strlen(p->name) < sizeof(p->name));
		if (i)
			assert_true(p->slot > t->parts[i - 1].slot);
	}
}

void ut_read_faults(const uint8_t *d, size_t len, uint32_t ss, size_t count,
		    int used_backup)
{
	int clean = 0;

	for (long n = 1; n < 40 && !clean; n++) {
		struct vu_ptable t;
		int r;

		vu_blk_fault_after(n);
		r = ut_parse_buf(d, len, ss, &t);
		vu_blk_fault_after(0);
		if (r == 0) {
			clean = 1;
			assert_int_equal(t.count, count);
			assert_int_equal(t.used_backup, used_backup);
		} else {
			assert_int_equal(r, -EIO);
			assert_int_equal(t.count, 0);
			ut_assert_has(vu_errmsg(r), "injected read fault");
		}
		vu_ptable_free(&t);
	}
	assert_true(clean);
}

const struct vu_part *ut_find_slot(const struct vu_ptable *t, unsigned slot)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->parts[i].slot == slot)
			return &t->parts[i];
	return NULL;
}

unsigned ut_node_slot(const char *node)
{
	const char *d = node + strlen(node);

	while (d > node && d[-1] >= '0' && d[-1] <= '9')
		d--;
	return (unsigned)atoi(d);
}

struct json_object *ut_sfdisk_json(const char *img, struct json_object **pt)
{
	struct json_object *root;
	char path[512];

	assert_int_equal(ut_sh("sfdisk --json %s > %s.json", img, img), 0);
	snprintf(path, sizeof(path), "%s/%s.json", ut_tmpdir, img);
	root = json_object_from_file(path);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "partitiontable", pt));
	return root;
}

void ut_assert_sfdisk_extent(const struct vu_part *p, struct json_object *jp)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(jp, "start", &v));
	assert_int_equal(p->start, json_object_get_int64(v) * 512);
	assert_true(json_object_object_get_ex(jp, "size", &v));
	assert_int_equal(p->size, json_object_get_int64(v) * 512);
}
