/* The URL source's pieces that need no server: the page-range XML of Get
 * Page Ranges (pages, markers, refusals of every malformed or truncated
 * body), the page map (merging, runs), Resource Manager's disk and access
 * answers, resource IDs and loopback-only http://. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "akv/arm.h"
#include "akv/arm_parse.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "source/pagelist.h"
#include "source/url.h"

static const char page1[] =
	"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<PageList>\n"
	"  <PageRange><Start>0</Start><End>1535</End></PageRange>\n"
	"  <ClearRange><Start>1536</Start><End>2047</End></ClearRange>\n"
	"  <PageRange><Start>1048576</Start><End>2097151</End></PageRange>\n"
	"  <NextMarker>2!8!MDAwMDA=</NextMarker>\n"
	"</PageList>";
static const char page2[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?><PageList>"
	"<PageRange><Start>2097152</Start><End>2098175</End></PageRange>"
	"<PageRange><Start>4194304</Start><End>4194815</End></PageRange>"
	"<NextMarker /></PageList>";

static int parse(const char *body, size_t len, struct vu_page_map *m,
		 char *marker, size_t msize)
{
	int r = vu_pagelist_parse(body, len, m, marker, msize);

	if (r < 0)
		vu_err_clear();
	return r;
}

static void pagelist_pages(void **state)
{
	struct vu_page_map m = { 0 };
	char marker[64];
	int w;

	(void)state;
	assert_int_equal(parse(page1, strlen(page1), &m, marker,
			       sizeof(marker)), 0);
	assert_string_equal(marker, "2!8!MDAwMDA=");
	assert_int_equal(m.n, 2);
	assert_int_equal(parse(page2, strlen(page2), &m, marker,
			       sizeof(marker)), 0);
	assert_string_equal(marker, "");
	assert_int_equal(m.n, 4);
	assert_int_equal(vu_page_map_finish(&m, 8 << 20), 0);
	/* [1 MiB, 2 MiB) and [2 MiB, 2 MiB + 1 KiB) touch: merged */
	assert_int_equal(m.n, 3);
	assert_int_equal(vu_page_map_bytes(&m), 1536 + (1 << 20) + 1024 + 512);
	assert_int_equal(vu_page_map_run(&m, 0, 4096, &w), 1536);
	assert_int_equal(w, 1);
	assert_int_equal(vu_page_map_run(&m, 1536, 1 << 20, &w), 1048576 - 1536);
	assert_int_equal(w, 0);
	assert_int_equal(vu_page_map_run(&m, 100, 10, &w), 10);
	assert_int_equal(w, 1);
	assert_int_equal(vu_page_map_run(&m, 2098176, 1 << 30, &w),
			 4194304 - 2098176);
	assert_int_equal(w, 0);
	assert_int_equal(vu_page_map_run(&m, 4194815, 100, &w), 1);
	assert_int_equal(w, 1);
	assert_int_equal(vu_page_map_run(&m, 4194816, 100, &w), 100);
	assert_int_equal(w, 0);
	/* a range past the blob */
	assert_int_equal(vu_page_map_finish(&m, 4 << 20), -EPROTO);
	vu_err_clear();
	vu_page_map_free(&m);
	/* an empty list, self-closing marker without a space */
	assert_int_equal(parse("<PageList><NextMarker/></PageList>", 34, &m,
			       marker, sizeof(marker)), 0);
	assert_int_equal(m.n, 0);
	assert_int_equal(vu_page_map_finish(&m, 512), 0);
	assert_int_equal(vu_page_map_run(&m, 0, 512, &w), 512);
	assert_int_equal(w, 0);
	vu_page_map_free(&m);
}

/* Every strict prefix of a valid body is refused, never read past. */
static void pagelist_truncated(void **state)
{
	size_t n = strlen(page1);

	(void)state;
	for (size_t len = 0; len < n; len++) {
		struct vu_page_map m = { 0 };
		char marker[64], *copy = malloc(len ? len : 1);
		memcpy(copy, page1, len);
		assert_int_equal(parse(copy, len, &m, marker, sizeof(marker)),
				 -EPROTO);
		free(copy);
		vu_page_map_free(&m);
	}
}

static void pagelist_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"<Error><Code>AuthenticationFailed</Code></Error>",
		"<PageList><PageRange><Start>0</Start><End>511</End></PageList>",
		"<PageList><PageRange><Start>x</Start><End>511</End></PageRange></PageList>",
		"<PageList><PageRange><Start>1024</Start><End>511</End></PageRange></PageList>",
		"<PageList><PageRange><Start>100</Start><End>611</End></PageRange></PageList>",
		"<PageList><PageRange><Start>0</Start><End>510</End></PageRange></PageList>",
		"<PageList><PageRange><Start>0</Start><End>99999999999999999999999</End></PageRange></PageList>",
		"<PageList><PageRange><Start>0</Start><End>18446744073709551615</End></PageRange></PageList>",
		"<PageList><Other/></PageList>",
		"<PageList></PageList>trailing",
		"<PageList><NextMarker>0123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789</NextMarker></PageList>",
	};
	char marker[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vu_page_map m = { 0 };
		assert_int_equal(vu_pagelist_parse(bad[i], strlen(bad[i]), &m,
						   marker, sizeof(marker)),
				 -EPROTO);
		assert_true(strstr(vu_errmsg(-EPROTO), "page list"));
		vu_err_clear();
		vu_page_map_free(&m);
	}
}

static const char disk_json[] =
	"{\"name\":\"web01-os\",\"id\":\"/subscriptions/s/resourceGroups/g/"
	"providers/Microsoft.Compute/snapshots/web01-os\",\"type\":"
	"\"Microsoft.Compute/snapshots\",\"location\":\"westeurope\","
	"\"properties\":{\"diskSizeGB\":30,\"diskSizeBytes\":32213303296,"
	"\"diskState\":\"Unattached\",\"encryptionSettingsCollection\":{"
	"\"enabled\":true,\"encryptionSettingsVersion\":\"1.1\","
	"\"encryptionSettings\":[{\"diskEncryptionKey\":{\"sourceVault\":{"
	"\"id\":\"/subscriptions/s/resourceGroups/g/providers/"
	"Microsoft.KeyVault/vaults/kv\"},\"secretUrl\":\"https://kv.vault."
	"azure.net/secrets/abc/0123\"},\"keyEncryptionKey\":{\"sourceVault\":"
	"{\"id\":\"/v\"},\"keyUrl\":\"https://kv.vault.azure.net/keys/kek/"
	"4567\"}},{\"diskEncryptionKey\":{\"secretUrl\":\"https://kv.vault."
	"azure.net/secrets/def/89\"}}]}}}";

static void arm_disk(void **state)
{
	struct arm_disk d;
	char many[4096];
	size_t o;

	(void)state;
	assert_int_equal(arm_disk_parse(disk_json, strlen(disk_json), &d), 0);
	assert_string_equal(d.name, "web01-os");
	assert_string_equal(d.disk_state, "Unattached");
	assert_int_equal(d.size_bytes, 32213303296ull);
	assert_true(d.encryption_enabled);
	assert_string_equal(d.encryption_version, "1.1");
	assert_int_equal(d.nsettings, 2);
	assert_string_equal(d.settings[0].secret_url,
			    "https://kv.vault.azure.net/secrets/abc/0123");
	assert_string_equal(d.settings[0].key_url,
			    "https://kv.vault.azure.net/keys/kek/4567");
	assert_string_equal(d.settings[1].key_url, "");
	/* a snapshot without encryption settings */
	assert_int_equal(arm_disk_parse("{\"name\":\"n\",\"properties\":{}}",
					29, &d), 0);
	assert_int_equal(d.nsettings, 0);
	/* refusals: not JSON, wrong types, no secretUrl, too many settings */
	assert_int_equal(arm_disk_parse("[1]", 3, &d), -EPROTO);
	assert_int_equal(arm_disk_parse("{\"name\":1,\"properties\":{}}", 26,
					&d), -EPROTO);
	assert_int_equal(arm_disk_parse("{\"name\":\"n\"}", 12, &d), -EPROTO);
	assert_int_equal(arm_disk_parse(disk_json, strlen(disk_json) - 1, &d),
			 -EPROTO);
	o = (size_t)snprintf(many, sizeof(many), "{\"name\":\"n\",\"properties\":"
			     "{\"encryptionSettingsCollection\":{\"enabled\":"
			     "true,\"encryptionSettings\":[");
	for (int i = 0; i < 9; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o,
				      "%s{\"diskEncryptionKey\":{\"secretUrl\":"
				      "\"https://k/secrets/s/%d\"}}", i ? "," : "",
				      i);
	snprintf(many + o, sizeof(many) - o, "]}}}");
	assert_int_equal(arm_disk_parse(many, strlen(many), &d), -EPROTO);
	vu_err_clear();
}

static void arm_access(void **state)
{
	enum arm_op_status st;
	char *sas, err[256];
	size_t n;
	static const char loc[] = "{\"accessSAS\":\"https://md-x.blob.core."
				  "windows.net/abcd/abcd?sv=2018&sig=SECRET\"}";
	static const char denied[] = "{\"error\":{\"code\":"
		"\"AuthorizationFailed\",\"message\":\"no\"}}";
	static const char failed[] = "{\"status\":\"Failed\",\"error\":{"
		"\"code\":\"Conflict\",\"message\":\"in\\nuse\"}}";
	static const char async_ok[] = "{\"name\":\"op\",\"status\":\"Succeeded\","
		"\"properties\":{\"output\":{\"accessSAS\":\"https://h/b?sig=S\"}}}";

	(void)state;
	assert_int_equal(arm_access_parse(loc, strlen(loc), &st, &sas, &n, err,
					  sizeof(err)), 0);
	assert_int_equal(st, ARM_OP_SUCCEEDED);
	assert_string_equal(sas, "https://md-x.blob.core.windows.net/abcd/"
			    "abcd?sv=2018&sig=SECRET");
	vu_secret_free(sas, n);
	assert_int_equal(arm_access_parse(async_ok, strlen(async_ok), &st, &sas,
					  &n, err, sizeof(err)), 0);
	assert_int_equal(st, ARM_OP_SUCCEEDED);
	assert_string_equal(sas, "https://h/b?sig=S");
	vu_secret_free(sas, n);
	assert_int_equal(arm_access_parse("{\"status\":\"InProgress\"}", 23,
					  &st, &sas, &n, err, sizeof(err)), 0);
	assert_int_equal(st, ARM_OP_IN_PROGRESS);
	assert_null(sas);
	assert_int_equal(arm_access_parse(failed, strlen(failed), &st, &sas,
					  &n, err, sizeof(err)), 0);
	assert_int_equal(st, ARM_OP_FAILED);
	assert_string_equal(err, "Conflict: in use");
	assert_int_equal(arm_access_parse("{\"status\":\"Succeeded\"}", 22, &st,
					  &sas, &n, err, sizeof(err)), -EPROTO);
	assert_int_equal(arm_access_parse("{\"accessSAS\":\"ftp\"}", 19, &st,
					  &sas, &n, err, sizeof(err)), -EPROTO);
	vu_err_clear();
	arm_error_text(denied, strlen(denied), err, sizeof(err));
	assert_string_equal(err, "AuthorizationFailed: no");
	arm_error_text("<html>", 6, err, sizeof(err));
	assert_string_equal(err, "");
}

static void ids_and_schemes(void **state)
{
	int lo;

	(void)state;
	assert_true(arm_is_resource_id("/subscriptions/1/resourceGroups/rg/"
				       "providers/Microsoft.Compute/snapshots/s"));
	assert_true(arm_is_resource_id("/SUBSCRIPTIONS/1/resourcegroups/rg/"
				       "providers/microsoft.compute/disks/d"));
	assert_false(arm_is_resource_id("/subscriptions/1/resourceGroups/rg/"
					"providers/Microsoft.Compute/images/i"));
	assert_false(arm_is_resource_id("/subscriptions//resourceGroups/rg/"
					"providers/Microsoft.Compute/disks/d"));
	assert_false(arm_is_resource_id("/subscriptions/1/resourceGroups/rg/"
					"providers/Microsoft.Compute/disks/d/x"));
	assert_false(arm_is_resource_id("disk.vhd"));
	assert_true(vu_url_scheme_ok("https://a.blob.core.windows.net/c/b", &lo));
	assert_false(lo);
	assert_true(vu_url_scheme_ok("http://127.0.0.1:10000/a/b", &lo));
	assert_true(lo);
	assert_true(vu_url_scheme_ok("http://localhost/a", &lo));
	assert_true(vu_url_scheme_ok("http://[::1]:8080/a", &lo));
	assert_false(vu_url_scheme_ok("http://127.0.0.1.evil.example/a", &lo));
	assert_false(vu_url_scheme_ok("http://10.0.0.1/a", &lo));
	assert_false(vu_url_scheme_ok("ftp://127.0.0.1/a", &lo));
	assert_false(vu_url_scheme_ok("disk.vhd", &lo));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pagelist_pages),
		cmocka_unit_test(pagelist_truncated),
		cmocka_unit_test(pagelist_refused),
		cmocka_unit_test(arm_disk),
		cmocka_unit_test(arm_access),
		cmocka_unit_test(ids_and_schemes),
	};
	vu_log_set_sink(NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
