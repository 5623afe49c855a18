/* The parsers behind the URL source, without a server: Get Page Ranges XML
 * (pages, markers in every form, ClearRange, white space, every truncation,
 * every malformed number or range, markers that do not fit), the page map
 * (sorting, merging, bounds, runs at every boundary, against a linear
 * reference), and Resource Manager's disk and beginGetAccess answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "akv/arm_parse.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "source/pagelist.h"

#define MARKER_SIZE 64
#define KIB 1024ull
#define MIB (1024ull * 1024)

/* Parse from an exact-size heap copy, so ASan sees any read past len. */
static int parse_exact(const char *body, size_t len, struct vu_page_map *m,
		       char *marker, size_t msize)
{
	char *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, body, len);
	r = vu_pagelist_parse(copy, len, m, marker, msize);
	free(copy);
	return r;
}

static int parse(const char *body, struct vu_page_map *m, char *marker)
{
	return parse_exact(body, strlen(body), m, marker, MARKER_SIZE);
}

/* body is refused with a message naming the byte offset and expectation */
static void refused(const char *body)
{
	struct vu_page_map m = { 0 };
	char marker[MARKER_SIZE];
	const char *msg;

	assert_int_equal(parse(body, &m, marker), -EPROTO);
	msg = vu_errmsg(-EPROTO);
	if (!strstr(msg, "page list: at byte ") || !strstr(msg, "expected"))
		fail_msg("message \"%s\" for \"%s\"", msg, body);
	assert_int_equal(m.n, 0);
	assert_string_equal(marker, "");
	vu_err_clear();
	vu_page_map_free(&m);
}

static const char azure_page1[] =
	"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	"<PageList><PageRange><Start>0</Start><End>511</End></PageRange>"
	"<ClearRange><Start>512</Start><End>1023</End></ClearRange>"
	"<PageRange><Start>4096</Start><End>8191</End></PageRange>"
	"<NextMarker>2!104!MDAwMDIzITAwMDAwMDAwODE5MiE-</NextMarker>"
	"</PageList>";
static const char azure_page2[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<PageList>\r\n"
	"\t<PageRange>\n  <Start>8192</Start>\n  <End>12287</End>\n"
	"\t</PageRange>\n"
	"\t<PageRange ><Start> 1048576 </Start><End>2097151</End ></PageRange>"
	"\n\t<NextMarker />\n</PageList>\n";
static const char empty_marker[] =
	"<PageList><PageRange><Start>0</Start><End>1023</End></PageRange>"
	"<NextMarker></NextMarker></PageList>";
static const char no_marker[] =
	"<PageList><PageRange><Start>0</Start><End>1023</End></PageRange>"
	"</PageList>";

static void pagelist_pages(void **state)
{
	struct vu_page_map m = { 0 };
	char marker[MARKER_SIZE];

	(void)state;
	assert_int_equal(parse(azure_page1, &m, marker), 0);
	assert_string_equal(marker, "2!104!MDAwMDIzITAwMDAwMDAwODE5MiE-");
	assert_int_equal(m.n, 2); /* the ClearRange is not in the map */
	assert_int_equal(m.v[0].start, 0);
	assert_int_equal(m.v[0].end, 512); /* End is inclusive */
	assert_int_equal(m.v[1].start, 4096);
	assert_int_equal(m.v[1].end, 8192);
	/* the next page appends; its self-closing marker ends the list */
	assert_int_equal(parse(azure_page2, &m, marker), 0);
	assert_string_equal(marker, "");
	assert_int_equal(m.n, 4);
	assert_int_equal(m.v[2].start, 8192);
	assert_int_equal(m.v[3].start, MIB);
	assert_int_equal(m.v[3].end, 2 * MIB);
	vu_page_map_free(&m);

	strcpy(marker, "stale");
	assert_int_equal(parse(empty_marker, &m, marker), 0);
	assert_string_equal(marker, "");
	strcpy(marker, "stale");
	assert_int_equal(parse(no_marker, &m, marker), 0);
	assert_string_equal(marker, "");
	assert_int_equal(m.n, 2);
	vu_page_map_free(&m);

	/* an empty list in its three spellings */
	assert_int_equal(parse("<PageList><NextMarker/></PageList>", &m, marker),
			 0);
	assert_int_equal(parse("<PageList></PageList>", &m, marker), 0);
	assert_int_equal(parse("<?xml version=\"1.0\"?><PageList />", &m,
			       marker), 0);
	assert_int_equal(m.n, 0);
	/* attributes of the root, a quoted '>' among them */
	assert_int_equal(parse("<PageList a=\"x>y\" b='z'><PageRange><Start>0"
			       "</Start><End>511</End></PageRange></PageList>",
			       &m, marker), 0);
	assert_int_equal(m.n, 1);
	vu_page_map_free(&m);
	/* the predefined entities in a marker */
	assert_int_equal(parse("<PageList><NextMarker>a&amp;b&lt;&gt;&quot;"
			       "&apos;</NextMarker></PageList>", &m, marker), 0);
	assert_string_equal(marker, "a&b<>\"'");
	vu_page_map_free(&m);
}

/* A marker of marker_size - 1 bytes fits; one more does not. */
static void pagelist_marker_bounds(void **state)
{
	struct vu_page_map m = { 0 };
	char body[256], marker[MARKER_SIZE], want[MARKER_SIZE];

	(void)state;
	memset(want, 'm', sizeof(want) - 1);
	want[sizeof(want) - 1] = 0;
	snprintf(body, sizeof(body), "<PageList><NextMarker>%s</NextMarker>"
		 "</PageList>", want);
	assert_int_equal(parse(body, &m, marker), 0);
	assert_string_equal(marker, want);
	snprintf(body, sizeof(body), "<PageList><NextMarker>%sm</NextMarker>"
		 "</PageList>", want);
	refused(body);
	/* no room at all: an empty marker is fine, a marker is not */
	assert_int_equal(parse_exact("<PageList><NextMarker/></PageList>", 34,
				     &m, NULL, 0), 0);
	assert_int_equal(parse_exact("<PageList><NextMarker>x</NextMarker>"
				     "</PageList>", 47, &m, NULL, 0), -EPROTO);
	/* a marker of one byte needs two */
	assert_int_equal(parse_exact("<PageList><NextMarker>x</NextMarker>"
				     "</PageList>", 47, &m, marker, 1), -EPROTO);
	assert_string_equal(marker, "");
	assert_int_equal(parse_exact("<PageList><NextMarker>x</NextMarker>"
				     "</PageList>", 47, &m, marker, 2), 0);
	assert_string_equal(marker, "x");
	vu_err_clear();
	vu_page_map_free(&m);
}

/* Every strict prefix of a valid body is refused, never read past, and
 * adds nothing to the map. */
static void pagelist_truncated(void **state)
{
	static const char *const docs[] = { azure_page1, empty_marker,
					    no_marker,
					    "<PageList><NextMarker /></PageList>" };
	char marker[MARKER_SIZE];

	(void)state;
	for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
		struct vu_page_map m = { 0 };
		size_t n = strlen(docs[d]);
		/* one range already there from an earlier page */
		assert_int_equal(parse("<PageList><PageRange><Start>0</Start>"
				       "<End>511</End></PageRange></PageList>",
				       &m, marker), 0);
		for (size_t len = 0; len < n; len++) {
			if (parse_exact(docs[d], len, &m, marker,
					sizeof(marker)) != -EPROTO)
				fail_msg("document %zu cut at %zu accepted", d,
					 len);
			assert_int_equal(m.n, 1);
			assert_string_equal(marker, "");
			vu_err_clear();
		}
		assert_int_equal(parse_exact(docs[d], n, &m, marker,
					     sizeof(marker)), 0);
		vu_page_map_free(&m);
	}
	/* azure_page2 ends in white space: cut anywhere before </PageList>'s
	 * '>' it is refused */
	for (size_t len = 0; len < strlen(azure_page2) - 1; len++) {
		struct vu_page_map m = { 0 };
		assert_int_equal(parse_exact(azure_page2, len, &m, marker,
					     sizeof(marker)), -EPROTO);
		vu_err_clear();
		vu_page_map_free(&m);
	}
}

#define RANGE(s, e) "<PageList><PageRange><Start>" s "</Start><End>" e \
		    "</End></PageRange></PageList>"

static void pagelist_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"<Error><Code>AuthenticationFailed</Code></Error>",
		"<PageListX></PageListX>",
		"<?xml version=\"1.0\"<PageList></PageList>",
		"<PageList",
		"<PageList a=\"x></PageList>",
		/* numbers */
		RANGE("x", "511"), RANGE("", "511"), RANGE("-0", "511"),
		RANGE("+0", "511"), RANGE("0x0", "511"), RANGE("0", "5 11"),
		RANGE("0", "511.0"), RANGE("0", "1e3"),
		RANGE("0", "99999999999999999999999"),
		RANGE("18446744073709551616", "18446744073709551617"),
		RANGE("0", "18446744073709551615"),
		/* ranges */
		RANGE("1024", "511"), RANGE("1024", "1023"), RANGE("100", "611"),
		RANGE("0", "510"), RANGE("0", "512"), RANGE("1", "511"),
		/* structure */
		"<PageList><PageRange><Start>0</Start><End>511</End></PageList>",
		"<PageList><PageRange><End>511</End><Start>0</Start></PageRange>"
		"</PageList>",
		"<PageList><PageRange><Start>0</Start><End>511</End><End>1023"
		"</End></PageRange></PageList>",
		"<PageList><PageRange/></PageList>",
		"<PageList><PageRanges><Start>0</Start><End>511</End>"
		"</PageRanges></PageList>",
		"<PageList><ClearRange><Start>0</Start><End>5</End></ClearRange>"
		"</PageList>",
		"<PageList><Other/></PageList>",
		"<PageList><!-- c --></PageList>",
		"<PageList></PageList>trailing",
		"<PageList></PageList><PageList></PageList>",
		"<PageList><NextMarker>a</NextMarker><NextMarker/></PageList>",
		"<PageList><NextMarker>a&nbsp;</NextMarker></PageList>",
		"<PageList><NextMarker>a&amp</NextMarker></PageList>",
		"<PageList><NextMarker>a</NextMarker ></PageList >x",
		"<PageList><NextMarker>a</NextMark></PageList>",
		"<PageList><NextMarker / ></PageList>",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i]);
}

/* A NUL byte is not white space; the body is taken by length. */
static void pagelist_nul_and_messages(void **state)
{
	static const char with_nul[] = "<PageList>\0</PageList>";
	struct vu_page_map m = { 0 };
	char marker[MARKER_SIZE];

	(void)state;
	assert_int_equal(parse_exact(with_nul, sizeof(with_nul) - 1, &m, marker,
				     sizeof(marker)), -EPROTO);
	assert_non_null(strstr(vu_errmsg(-EPROTO), "at byte 10:"));
	vu_err_clear();
	assert_int_equal(parse_exact("<PageList></PageList>\0", 22, &m, marker,
				     sizeof(marker)), -EPROTO);
	vu_err_clear();
	assert_int_equal(parse("<PageList><Foo/></PageList>", &m, marker),
			 -EPROTO);
	assert_string_equal(vu_errmsg(-EPROTO),
			    "page list: at byte 10: expected <PageRange>, "
			    "<ClearRange>, <NextMarker> or </PageList>, found "
			    "\"<Foo/></PageList>\"");
	vu_err_clear();
	assert_int_equal(parse("<PageList><PageRange><Start>0</Start>", &m,
			       marker), -EPROTO);
	assert_non_null(strstr(vu_errmsg(-EPROTO), "at byte 37: expected "
			       "<End>, found the end of the body"));
	vu_err_clear();
	assert_int_equal(parse(RANGE("512", "511"), &m, marker), -EPROTO);
	assert_non_null(strstr(vu_errmsg(-EPROTO), "Start 512, End 511"));
	vu_err_clear();
	vu_page_map_free(&m);
}

static void add(struct vu_page_map *m, uint64_t start, uint64_t end)
{
	m->v = realloc(m->v, (m->n + 1) * sizeof(*m->v));
	assert_non_null(m->v);
	m->v[m->n].start = start;
	m->v[m->n].end = end;
	m->cap = ++m->n;
}

static void map_finish(void **state)
{
	struct vu_page_map m = { 0 };

	(void)state;
	assert_int_equal(vu_page_map_finish(&m, 0), 0);
	assert_int_equal(vu_page_map_bytes(&m), 0);
	/* out of order, overlapping, touching, contained, disjoint */
	add(&m, 8 * KIB, 12 * KIB);
	add(&m, 0, 1 * KIB);
	add(&m, 10 * KIB, 16 * KIB); /* overlaps [8K, 12K) */
	add(&m, 1 * KIB, 2 * KIB);   /* touches [0, 1K) */
	add(&m, 9 * KIB, 10 * KIB);  /* inside [8K, 16K) */
	add(&m, 32 * KIB, 33 * KIB);
	add(&m, 0, 512);	     /* a duplicate start */
	assert_int_equal(vu_page_map_finish(&m, 33 * KIB), 0);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.v[0].start, 0);
	assert_int_equal(m.v[0].end, 2 * KIB);
	assert_int_equal(m.v[1].start, 8 * KIB);
	assert_int_equal(m.v[1].end, 16 * KIB);
	assert_int_equal(m.v[2].start, 32 * KIB);
	assert_int_equal(m.v[2].end, 33 * KIB);
	assert_int_equal(vu_page_map_bytes(&m), 2 * KIB + 8 * KIB + 1 * KIB);
	/* finishing twice changes nothing; a range past the blob is refused */
	assert_int_equal(vu_page_map_finish(&m, 33 * KIB), 0);
	assert_int_equal(m.n, 3);
	assert_int_equal(vu_page_map_finish(&m, 33 * KIB - 512), -EPROTO);
	assert_non_null(strstr(vu_errmsg(-EPROTO), "past the blob"));
	vu_err_clear();
	vu_page_map_free(&m);
	assert_null(m.v);
	assert_int_equal(m.n, 0);
}

static void map_runs(void **state)
{
	struct vu_page_map m = { 0 };
	int w = -1;

	(void)state;
	/* an empty map: all unwritten */
	assert_int_equal(vu_page_map_run(&m, 0, MIB, &w), MIB);
	assert_int_equal(w, 0);
	add(&m, 4 * KIB, 8 * KIB);
	add(&m, 16 * KIB, 20 * KIB);
	assert_int_equal(vu_page_map_finish(&m, MIB), 0);
	/* before the first range */
	assert_int_equal(vu_page_map_run(&m, 0, MIB, &w), 4 * KIB);
	assert_int_equal(w, 0);
	assert_int_equal(vu_page_map_run(&m, 4 * KIB - 1, MIB, &w), 1);
	assert_int_equal(w, 0);
	/* at the start of a range, inside it, at its last byte */
	assert_int_equal(vu_page_map_run(&m, 4 * KIB, MIB, &w), 4 * KIB);
	assert_int_equal(w, 1);
	assert_int_equal(vu_page_map_run(&m, 5 * KIB, MIB, &w), 3 * KIB);
	assert_int_equal(w, 1);
	assert_int_equal(vu_page_map_run(&m, 8 * KIB - 1, MIB, &w), 1);
	assert_int_equal(w, 1);
	/* at its end: the gap up to the next */
	assert_int_equal(vu_page_map_run(&m, 8 * KIB, MIB, &w), 8 * KIB);
	assert_int_equal(w, 0);
	/* at the end of the last range and past it */
	assert_int_equal(vu_page_map_run(&m, 20 * KIB, 100, &w), 100);
	assert_int_equal(w, 0);
	assert_int_equal(vu_page_map_run(&m, 512 * KIB, MIB, &w), MIB);
	assert_int_equal(w, 0);
	assert_int_equal(vu_page_map_run(&m, UINT64_MAX - 10, 10, &w), 10);
	assert_int_equal(w, 0);
	/* cut by len, inside and outside a range */
	assert_int_equal(vu_page_map_run(&m, 4 * KIB, 100, &w), 100);
	assert_int_equal(w, 1);
	assert_int_equal(vu_page_map_run(&m, 0, 100, &w), 100);
	assert_int_equal(w, 0);
	assert_int_equal(vu_page_map_run(&m, 0, 0, &w), 0);
	assert_int_equal(vu_page_map_bytes(&m), 8 * KIB);
	vu_page_map_free(&m);
}

/* Many ranges from a long body: growth of the map, and the binary search
 * against a linear walk at every 256-byte step. */
static void map_many(void **state)
{
	enum { RANGES = 3000, STEP = 256 };
	struct vu_page_map m = { 0 };
	char marker[MARKER_SIZE], *body = malloc(RANGES * 96 + 64);
	size_t o;
	uint64_t blob = (uint64_t)RANGES * 4 * KIB;

	(void)state;
	assert_non_null(body);
	o = (size_t)sprintf(body, "<PageList>");
	/* range i covers [4K*i, 4K*i + 512*(1 + i%4)) */
	for (unsigned i = 0; i < RANGES; i++)
		o += (size_t)sprintf(body + o, "<PageRange><Start>%llu</Start>"
				     "<End>%llu</End></PageRange>",
				     4 * KIB * i,
				     4 * KIB * i + 512 * (1 + i % 4) - 1);
	sprintf(body + o, "</PageList>");
	assert_int_equal(parse(body, &m, marker), 0);
	free(body);
	assert_int_equal(m.n, RANGES);
	assert_int_equal(vu_page_map_finish(&m, blob), 0);
	assert_int_equal(m.n, RANGES);
	assert_int_equal(vu_page_map_bytes(&m),
			 512ull * (RANGES / 4) * (1 + 2 + 3 + 4));
	for (uint64_t off = 0; off < blob; off += STEP) {
		uint64_t in = off % (4 * KIB), i = off / (4 * KIB);
		uint64_t end = 512 * (1 + i % 4);
		int w;
		uint64_t n = vu_page_map_run(&m, off, blob - off, &w);
		if (in < end) {
			assert_int_equal(w, 1);
			assert_int_equal(n, end - in);
		} else {
			assert_int_equal(w, 0);
			assert_int_equal(n, 4 * KIB - in);
		}
	}
	vu_page_map_free(&m);
}

/* ---- Resource Manager ---- */

static const char disk_kek[] =
	"{\"name\":\"web01-os\",\"id\":\"/subscriptions/s/resourceGroups/g/"
	"providers/Microsoft.Compute/disks/web01-os\",\"type\":"
	"\"Microsoft.Compute/disks\",\"location\":\"westeurope\","
	"\"managedBy\":\"/subscriptions/s/resourceGroups/g/providers/"
	"Microsoft.Compute/virtualMachines/web01\",\"sku\":{\"name\":"
	"\"Premium_LRS\"},\"properties\":{\"osType\":\"Linux\","
	"\"diskSizeGB\":30,\"diskSizeBytes\":32213303296,\"diskState\":"
	"\"Attached\",\"dataAccessAuthMode\":\"AzureActiveDirectory\","
	"\"encryptionSettingsCollection\":{\"enabled\":true,"
	"\"encryptionSettingsVersion\":\"1.1\",\"encryptionSettings\":[{"
	"\"diskEncryptionKey\":{\"sourceVault\":{\"id\":\"/subscriptions/s/"
	"resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv\"},"
	"\"secretUrl\":\"https://kv.vault.azure.net/secrets/abc/0123\"},"
	"\"keyEncryptionKey\":{\"sourceVault\":{\"id\":\"/v/kek\"},\"keyUrl\":"
	"\"https://kv.vault.azure.net/keys/kek/4567\"}}]},"
	"\"encryption\":{\"type\":\"EncryptionAtRestWithPlatformKey\"}}}";
static const char disk_nokek[] =
	"{\"name\":\"d2\",\"type\":\"Microsoft.Compute/disks\",\"managedBy\":"
	"null,\"properties\":{\"diskSizeBytes\":1073741824,\"diskState\":"
	"\"Unattached\",\"encryptionSettingsCollection\":{\"enabled\":true,"
	"\"encryptionSettings\":[{\"diskEncryptionKey\":{\"sourceVault\":{"
	"\"id\":\"/v/kv\"},\"secretUrl\":\"https://kv.vault.azure.net/secrets/"
	"s/1\"},\"keyEncryptionKey\":null}]}}}";
static const char snapshot[] =
	"{\"name\":\"snap\",\"type\":\"Microsoft.Compute/snapshots\","
	"\"properties\":{\"creationData\":{\"createOption\":\"Copy\"},"
	"\"diskSizeGB\":30,\"timeCreated\":\"2024-01-01T00:00:00Z\"}}";

static int disk_parse(const char *body, struct arm_disk *d)
{
	return arm_disk_parse(body, strlen(body), d);
}

static void arm_disks(void **state)
{
	struct arm_disk *d = malloc(sizeof(*d));
	const struct arm_encryption_setting *e;

	(void)state;
	assert_non_null(d);
	assert_int_equal(disk_parse(disk_kek, d), 0);
	assert_string_equal(d->name, "web01-os");
	assert_string_equal(d->type, "Microsoft.Compute/disks");
	assert_string_equal(d->disk_state, "Attached");
	assert_string_equal(d->managed_by, "/subscriptions/s/resourceGroups/g/"
			    "providers/Microsoft.Compute/virtualMachines/web01");
	assert_string_equal(d->access_mode, "AzureActiveDirectory");
	assert_int_equal(d->size_bytes, 32213303296ull);
	assert_true(d->encryption_enabled);
	assert_string_equal(d->encryption_version, "1.1");
	assert_int_equal(d->nsettings, 1);
	e = &d->settings[0];
	assert_string_equal(e->secret_url,
			    "https://kv.vault.azure.net/secrets/abc/0123");
	assert_string_equal(e->secret_vault, "/subscriptions/s/resourceGroups/"
			    "g/providers/Microsoft.KeyVault/vaults/kv");
	assert_string_equal(e->key_url, "https://kv.vault.azure.net/keys/kek/"
			    "4567");
	assert_string_equal(e->key_vault, "/v/kek");

	assert_int_equal(disk_parse(disk_nokek, d), 0);
	assert_string_equal(d->managed_by, "");
	assert_string_equal(d->access_mode, "");
	assert_string_equal(d->encryption_version, "");
	assert_int_equal(d->size_bytes, 1073741824);
	assert_int_equal(d->nsettings, 1);
	assert_string_equal(d->settings[0].secret_vault, "/v/kv");
	assert_string_equal(d->settings[0].key_url, "");
	assert_string_equal(d->settings[0].key_vault, "");

	assert_int_equal(disk_parse(snapshot, d), 0);
	assert_string_equal(d->type, "Microsoft.Compute/snapshots");
	assert_string_equal(d->disk_state, "");
	assert_int_equal(d->size_bytes, 0);
	assert_false(d->encryption_enabled);
	assert_int_equal(d->nsettings, 0);
	/* disabled, with an empty list */
	assert_int_equal(disk_parse("{\"name\":\"n\",\"properties\":{"
				    "\"encryptionSettingsCollection\":{"
				    "\"enabled\":false,\"encryptionSettings\":"
				    "[]}}}", d), 0);
	assert_false(d->encryption_enabled);
	assert_int_equal(d->nsettings, 0);
	/* white space after the body */
	assert_int_equal(arm_disk_parse("{\"name\":\"n\",\"properties\":{}}\r\n",
					30, d), 0);
	free(d);
}

/* n settings of the form Resource Manager sends */
static void settings_body(char *out, size_t size, int n)
{
	size_t o = (size_t)snprintf(out, size, "{\"name\":\"n\",\"properties\":{"
				    "\"encryptionSettingsCollection\":{"
				    "\"enabled\":true,\"encryptionSettings\":[");

	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, size - o, "%s{\"diskEncryption"
				      "Key\":{\"secretUrl\":\"https://k/secrets/"
				      "s/%d\"}}", i ? "," : "", i);
	snprintf(out + o, size - o, "]}}}");
}

/* body is refused; the message names field */
static void disk_refused(const char *body, const char *field)
{
	struct arm_disk *d = malloc(sizeof(*d));
	const char *msg;

	assert_non_null(d);
	assert_int_equal(disk_parse(body, d), -EPROTO);
	msg = vu_errmsg(-EPROTO);
	if (!strstr(msg, "Resource Manager: ") || !strstr(msg, field))
		fail_msg("message \"%s\" for %s does not name %s", msg, body,
			 field);
	assert_int_equal(d->nsettings, 0);
	vu_err_clear();
	free(d);
}

static void arm_disks_refused(void **state)
{
	char body[4096], name[300];
	struct arm_disk *d = malloc(sizeof(*d));

	(void)state;
	assert_non_null(d);
	settings_body(body, sizeof(body), ARM_MAX_SETTINGS);
	assert_int_equal(disk_parse(body, d), 0);
	assert_int_equal(d->nsettings, ARM_MAX_SETTINGS);
	assert_string_equal(d->settings[7].secret_url, "https://k/secrets/s/7");
	settings_body(body, sizeof(body), ARM_MAX_SETTINGS + 1);
	disk_refused(body, "encryptionSettings");

	disk_refused("[1]", "JSON object");
	disk_refused("", "JSON object");
	disk_refused("{\"name\":\"n\",\"properties\":{}} x", "JSON object");
	disk_refused("{\"name\":\"n\",\"properties\":{}", "JSON object");
	disk_refused("{\"name\":1,\"properties\":{}}", "name");
	disk_refused("{\"properties\":{}}", "name");
	disk_refused("{\"name\":\"n\"}", "properties");
	disk_refused("{\"name\":\"n\",\"properties\":[]}", "properties");
	disk_refused("{\"name\":\"n\",\"type\":[],\"properties\":{}}", "type");
	disk_refused("{\"name\":\"a\\u0000b\",\"properties\":{}}", "name");
	disk_refused("{\"name\":\"n\",\"properties\":{\"diskState\":1}}",
		     "properties.diskState");
	disk_refused("{\"name\":\"n\",\"properties\":{\"diskSizeBytes\":\"1\"}}",
		     "properties.diskSizeBytes");
	disk_refused("{\"name\":\"n\",\"properties\":{\"diskSizeBytes\":-1}}",
		     "properties.diskSizeBytes");
	disk_refused("{\"name\":\"n\",\"properties\":{\"diskSizeBytes\":1.5}}",
		     "properties.diskSizeBytes");
	disk_refused("{\"name\":\"n\",\"properties\":{"
		     "\"encryptionSettingsCollection\":[]}}",
		     "encryptionSettingsCollection");
	disk_refused("{\"name\":\"n\",\"properties\":{"
		     "\"encryptionSettingsCollection\":{\"enabled\":\"yes\"}}}",
		     "enabled");
	disk_refused("{\"name\":\"n\",\"properties\":{"
		     "\"encryptionSettingsCollection\":{\"encryptionSettings\":"
		     "{}}}}", "encryptionSettings");
	disk_refused("{\"name\":\"n\",\"properties\":{"
		     "\"encryptionSettingsCollection\":{\"encryptionSettings\":"
		     "[1]}}}", "encryptionSettings[0]");
	disk_refused("{\"name\":\"n\",\"properties\":{"
		     "\"encryptionSettingsCollection\":{\"encryptionSettings\":"
		     "[{}]}}}", "diskEncryptionKey");
	disk_refused("{\"name\":\"n\",\"properties\":{"
		     "\"encryptionSettingsCollection\":{\"encryptionSettings\":"
		     "[{\"diskEncryptionKey\":\"x\"}]}}}", "diskEncryptionKey");
	disk_refused("{\"name\":\"n\",\"properties\":{"
		     "\"encryptionSettingsCollection\":{\"encryptionSettings\":"
		     "[{\"diskEncryptionKey\":{}}]}}}", "secretUrl");
	disk_refused("{\"name\":\"n\",\"properties\":{"
		     "\"encryptionSettingsCollection\":{\"encryptionSettings\":"
		     "[{\"diskEncryptionKey\":{\"secretUrl\":5}}]}}}",
		     "secretUrl");
	disk_refused("{\"name\":\"n\",\"properties\":{"
		     "\"encryptionSettingsCollection\":{\"encryptionSettings\":"
		     "[{\"diskEncryptionKey\":{\"secretUrl\":\"u\",\"sourceVault"
		     "\":\"v\"}}]}}}", "diskEncryptionKey.sourceVault");
	disk_refused("{\"name\":\"n\",\"properties\":{"
		     "\"encryptionSettingsCollection\":{\"encryptionSettings\":"
		     "[{\"diskEncryptionKey\":{\"secretUrl\":\"u\"},"
		     "\"keyEncryptionKey\":{}}]}}}", "keyEncryptionKey.keyUrl");
	disk_refused("{\"name\":\"n\",\"properties\":{"
		     "\"encryptionSettingsCollection\":{\"encryptionSettings\":"
		     "[{\"diskEncryptionKey\":{\"secretUrl\":\"u\"},"
		     "\"keyEncryptionKey\":\"k\"}]}}}", "keyEncryptionKey");
	/* a string of the field's size does not fit (the NUL); one less does */
	memset(name, 'n', sizeof(d->name));
	name[sizeof(d->name)] = 0;
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"properties\":{}}", name);
	disk_refused(body, "name");
	name[sizeof(d->name) - 1] = 0;
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"properties\":{}}", name);
	assert_int_equal(disk_parse(body, d), 0);
	assert_string_equal(d->name, name);
	free(d);
}

/* Every strict prefix of a disk is refused. */
static void arm_disk_truncated(void **state)
{
	struct arm_disk *d = malloc(sizeof(*d));

	(void)state;
	assert_non_null(d);
	for (size_t len = 0; len < strlen(disk_kek); len++) {
		char *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, disk_kek, len);
		assert_int_equal(arm_disk_parse(copy, len, d), -EPROTO);
		vu_err_clear();
		free(copy);
	}
	free(d);
}

struct access_result {
	int r;
	enum arm_op_status st;
	char *sas;
	size_t n;
	char err[256];
};

static struct access_result access_of(const char *body)
{
	struct access_result a;

	memset(&a, 0, sizeof(a));
	a.r = arm_access_parse(body, strlen(body), &a.st, &a.sas, &a.n, a.err,
			       sizeof(a.err));
	if (a.r < 0) {
		assert_null(a.sas);
		assert_int_equal(a.n, 0);
		vu_err_clear();
	}
	return a;
}

static void expect_sas(const char *body, const char *sas)
{
	struct access_result a = access_of(body);

	assert_int_equal(a.r, 0);
	assert_int_equal(a.st, ARM_OP_SUCCEEDED);
	assert_non_null(a.sas);
	assert_string_equal(a.sas, sas);
	assert_int_equal(a.n, strlen(sas) + 1);
	vu_secret_free(a.sas, a.n);
}

static void expect_state(const char *body, enum arm_op_status st,
			 const char *err)
{
	struct access_result a = access_of(body);

	assert_int_equal(a.r, 0);
	assert_int_equal(a.st, st);
	assert_null(a.sas);
	assert_int_equal(a.n, 0);
	assert_string_equal(a.err, err);
}

static void arm_access(void **state)
{
	char err[8], *sas;
	enum arm_op_status st;
	size_t n;
	static const char failed[] = "{\"status\":\"Failed\",\"error\":{"
		"\"code\":\"Conflict\",\"message\":\"in\\nuse\"}}";

	(void)state;
	/* the Location result */
	expect_sas("{\"accessSAS\":\"https://md-x.blob.core.windows.net/abcd/"
		   "abcd?sv=2018-03-28&sr=b&si=x&sig=SECRET%3D\"}",
		   "https://md-x.blob.core.windows.net/abcd/abcd?sv=2018-03-28"
		   "&sr=b&si=x&sig=SECRET%3D");
	/* the Azure-AsyncOperation status */
	expect_sas("{\"startTime\":\"2024-01-01T00:00:00Z\",\"endTime\":"
		   "\"2024-01-01T00:00:01Z\",\"status\":\"Succeeded\","
		   "\"properties\":{\"output\":{\"accessSAS\":"
		   "\"https://h/b?sig=S\"}},\"name\":\"op\"}",
		   "https://h/b?sig=S");
	/* a loopback emulator hands out http:// (checked by the URL source) */
	expect_sas("{\"accessSAS\":\"http://127.0.0.1:10000/a/b?sig=S\"}",
		   "http://127.0.0.1:10000/a/b?sig=S");
	expect_state("{\"status\":\"InProgress\",\"name\":\"op\"}",
		     ARM_OP_IN_PROGRESS, "");
	expect_state("{\"status\":\"Accepted\"}", ARM_OP_IN_PROGRESS, "");
	expect_state("{\"status\":\"Running\",\"properties\":null}",
		     ARM_OP_IN_PROGRESS, "");
	/* a SAS in a status still in progress is not handed out */
	expect_state("{\"status\":\"InProgress\",\"properties\":{\"output\":{"
		     "\"accessSAS\":\"https://h/b?sig=S\"}}}",
		     ARM_OP_IN_PROGRESS, "");
	expect_state(failed, ARM_OP_FAILED, "Conflict: in use");
	expect_state("{\"status\":\"Canceled\"}", ARM_OP_FAILED, "");
	expect_state("{\"error\":{\"code\":\"OperationNotAllowed\"}}",
		     ARM_OP_FAILED, "OperationNotAllowed");
	expect_state("{\"status\":\"Failed\",\"error\":{\"message\":\"m\"}}",
		     ARM_OP_FAILED, "m");
	/* err is cut to its size */
	assert_int_equal(arm_access_parse(failed, strlen(failed), &st, &sas, &n,
					  err, sizeof(err)), 0);
	assert_int_equal(st, ARM_OP_FAILED);
	assert_string_equal(err, "Conflic");

	/* refusals */
	assert_int_equal(access_of("{\"status\":\"Succeeded\"}").r, -EPROTO);
	assert_int_equal(access_of("{\"status\":\"Succeeded\",\"properties\":{"
				   "\"output\":{}}}").r, -EPROTO);
	assert_int_equal(access_of("{\"accessSAS\":\"ftp://h/b\"}").r, -EPROTO);
	assert_int_equal(access_of("{\"accessSAS\":\"https://h/b c\"}").r,
			 -EPROTO);
	assert_int_equal(access_of("{\"accessSAS\":\"https://h/\\u0000\"}").r,
			 -EPROTO);
	assert_int_equal(access_of("{\"accessSAS\":1}").r, -EPROTO);
	assert_int_equal(access_of("{\"status\":1}").r, -EPROTO);
	assert_int_equal(access_of("{\"status\":\"Succeeded\",\"properties\":"
				   "[]}").r, -EPROTO);
	assert_int_equal(access_of("{\"status\":\"Succeeded\",\"properties\":{"
				   "\"output\":{\"accessSAS\":[]}}}").r,
			 -EPROTO);
	assert_int_equal(access_of("[]").r, -EPROTO);
	assert_int_equal(access_of("").r, -EPROTO);
	assert_int_equal(access_of("{\"accessSAS\":\"https://h/b\"").r,
			 -EPROTO);
	assert_int_equal(access_of("<html></html>").r, -EPROTO);
}

static void error_text(const char *body, char *out, size_t size)
{
	arm_error_text(body, strlen(body), out, size);
}

static void arm_errors(void **state)
{
	static const char denied[] = "{\"error\":{\"code\":"
		"\"AuthorizationFailed\",\"message\":\"The client 'x' does "
		"not have authorization\\r\\nto perform action\"}}";
	char out[64], tiny[1];

	(void)state;
	arm_error_text(denied, strlen(denied), out, sizeof(out));
	assert_string_equal(out, "AuthorizationFailed: The client 'x' does "
			    "not have authorization");
	assert_int_equal(strlen(out), sizeof(out) - 1);
	arm_error_text(denied, strlen(denied) - 40, out, sizeof(out));
	assert_string_equal(out, ""); /* cut: not an error body */
	error_text("{\"error\":{\"code\":\"A\",\"message\":\"b\\tc\\u007f\"}}",
		   out, sizeof(out));
	assert_string_equal(out, "A: b c ");
	error_text("{\"error\":{\"code\":\"NotFound\"}}", out, sizeof(out));
	assert_string_equal(out, "NotFound");
	error_text("{\"error\":\"x\"}", out, sizeof(out));
	assert_string_equal(out, "");
	error_text("{\"message\":\"x\"}", out, sizeof(out));
	assert_string_equal(out, "");
	arm_error_text("<html>", 6, out, sizeof(out));
	assert_string_equal(out, "");
	arm_error_text("", 0, out, sizeof(out));
	assert_string_equal(out, "");
	arm_error_text(denied, strlen(denied), tiny, sizeof(tiny));
	assert_int_equal(tiny[0], 0);
	arm_error_text(denied, strlen(denied), NULL, 0);
	assert_false(vu_err_isset());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pagelist_pages),
		cmocka_unit_test(pagelist_marker_bounds),
		cmocka_unit_test(pagelist_truncated),
		cmocka_unit_test(pagelist_refused),
		cmocka_unit_test(pagelist_nul_and_messages),
		cmocka_unit_test(map_finish),
		cmocka_unit_test(map_runs),
		cmocka_unit_test(map_many),
		cmocka_unit_test(arm_disks),
		cmocka_unit_test(arm_disks_refused),
		cmocka_unit_test(arm_disk_truncated),
		cmocka_unit_test(arm_access),
		cmocka_unit_test(arm_errors),
	};
	vu_log_set_sink(NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
