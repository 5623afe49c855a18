/* Key Vault pieces that need no server: base64 (RFC 4648 vectors, both
 * alphabets, padding, refusals), the Bearer challenge, secret bundles and
 * list pages, token answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "akv/auth.h"
#include "akv/keyvault.h"
#include "core/base64.h"
#include "core/error.h"
#include "crypto/crypto.h"

static void decodes(const char *in, const char *want)
{
	uint8_t *out;
	size_t len;

	assert_int_equal(vu_base64_decode("t", in, strlen(in), &out, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
	assert_int_equal(out[len], 0);
	vu_secret_free(out, len + 1);
}

static void refuses(const char *in)
{
	uint8_t *out = (uint8_t *)"x";
	size_t len = 7;

	assert_int_equal(vu_base64_decode("t", in, strlen(in), &out, &len),
			 -EINVAL);
	assert_null(out);
	assert_int_equal(len, 0);
	vu_err_clear();
}

static void base64_vectors(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob",
					     "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v",
					   "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	(void)state;
	for (size_t i = 0; i < 7; i++) {
		char *e = vu_base64_encode((const uint8_t *)plain[i],
					   strlen(plain[i]));
		char *u = vu_base64url_encode((const uint8_t *)plain[i],
					      strlen(plain[i]));
		assert_string_equal(e, enc[i]);
		assert_int_equal(strlen(u), strcspn(enc[i], "="));
		decodes(enc[i], plain[i]);
		decodes(u, plain[i]); /* unpadded */
		free(e);
		free(u);
	}
	decodes("-_-_", "\xfb\xff\xbf");
	decodes("+/+/", "\xfb\xff\xbf");
	refuses("+_");	   /* two alphabets */
	refuses("Zm9v\n"); /* white space */
	refuses("Zg=");	   /* padding short of a group */
	refuses("Z");	   /* a lone character */
	refuses("Zh==");   /* stray bits */
	refuses("Zm9v=Zg");
}

static void challenge(void **state)
{
	char t[128], r[256];

	(void)state;
	assert_int_equal(akv_parse_challenge(
		"Bearer authorization=\"https://login.microsoftonline.com/"
		"72f988bf-86f1-41af-91ab-2d7cd011db47\", resource=\"https://"
		"vault.azure.net\"", t, sizeof(t), r, sizeof(r)), 0);
	assert_string_equal(t, "72f988bf-86f1-41af-91ab-2d7cd011db47");
	assert_string_equal(r, "https://vault.azure.net");
	assert_int_equal(akv_parse_challenge(
		"Bearer authorization_uri=\"https://login.chinacloudapi.cn/"
		"abc/oauth2/authorize\", scope=\"https://vault.azure.cn/"
		".default\"", t, sizeof(t), r, sizeof(r)), 0);
	assert_string_equal(t, "abc");
	assert_string_equal(r, "https://vault.azure.cn");
	assert_int_not_equal(akv_parse_challenge("Basic realm=\"x\"", t,
						 sizeof(t), r, sizeof(r)), 0);
	assert_int_not_equal(akv_parse_challenge("Bearer resource=\"x\"", t,
						 sizeof(t), r, sizeof(r)), 0);
	vu_err_clear();
}

static void secrets_and_pages(void **state)
{
	struct akv_secret s, *list = NULL;
	size_t n = 0;
	char *next;

	(void)state;
	assert_int_equal(akv_parse_secret(
		"{\"value\":\"QkVL\",\"contentType\":\"Wrapped BEK\",\"id\":"
		"\"https://kv.vault.azure.net/secrets/n/v1\",\"attributes\":"
		"{\"enabled\":false,\"created\":5,\"updated\":7},\"tags\":{"
		"\"DiskEncryptionKeyFileName\":\"X.BEK\"}}", &s), 0);
	assert_string_equal(s.value, "QkVL");
	assert_string_equal(s.content_type, "Wrapped BEK");
	assert_int_equal(s.enabled, 0);
	assert_int_equal(s.updated, 7);
	assert_string_equal(akv_secret_tag(&s, "DiskEncryptionKeyFileName"),
			    "X.BEK");
	assert_null(akv_secret_tag(&s, "MachineName"));
	akv_secret_clear(&s);
	assert_int_not_equal(akv_parse_secret("{\"id\":\"x\"}", &s), 0);
	assert_int_not_equal(akv_parse_secret("[1,2]", &s), 0);
	vu_err_clear();

	assert_int_equal(akv_parse_list(
		"{\"value\":[{\"id\":\"a\"},{\"id\":\"b\",\"tags\":{}}],"
		"\"nextLink\":\"https://kv/secrets?$skiptoken=2\"}", &list, &n,
		&next), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[1].id, "b");
	assert_string_equal(next, "https://kv/secrets?$skiptoken=2");
	free(next);
	assert_int_equal(akv_parse_list("{\"value\":[{\"id\":\"c\"}],"
					 "\"nextLink\":null}", &list, &n,
					 &next), 0);
	assert_int_equal(n, 3);
	assert_null(next);
	akv_secrets_free(list, n);
}

static void tokens(void **state)
{
	struct akv_token t = { 0 };

	(void)state;
	assert_int_equal(akv_token_parse("{\"access_token\":\"abc\","
					 "\"expires_in\":3599}", "t", &t), 0);
	assert_string_equal(t.value, "abc");
	assert_true(t.expires > time(NULL) + 3000);
	char body[128];
	time_t at = time(NULL) + 7200;

	snprintf(body, sizeof(body), "{\"access_token\":\"def\","
		 "\"expires_on\":\"%lld\"}", (long long)at);
	assert_int_equal(akv_token_parse(body, "t", &t), 0);
	assert_int_equal(t.expires, at);
	/* a lifetime past a day (or one that would overflow) is a day */
	assert_int_equal(akv_token_parse("{\"access_token\":\"def\","
					 "\"expires_on\":\"4102444800\"}",
					 "t", &t), 0);
	assert_true(t.expires <= time(NULL) + 86400);
	assert_int_equal(akv_token_parse("{\"access_token\":\"x\","
					 "\"expires_in\":\"99999999999999999999\"}",
					 "t", &t), 0);
	assert_true(t.expires <= time(NULL) + 86400);
	assert_int_not_equal(akv_token_parse("{\"error\":\"x\"}", "t", &t), 0);
	assert_int_not_equal(akv_token_parse("not json", "t", &t), 0);
	akv_token_clear(&t);
	vu_err_clear();
}

static void urls_and_clouds(void **state)
{
	char host[128], path[256], res[128];

	(void)state;
	assert_int_equal(akv_split_url("https://kv1.vault.azure.net:443/keys/"
				       "kek/0123?x=1", host, sizeof(host), path,
				       sizeof(path)), 0);
	assert_string_equal(host, "kv1.vault.azure.net");
	assert_string_equal(path, "/keys/kek/0123");
	assert_int_equal(akv_split_url("https://localhost:8443/secrets/a", host,
				       sizeof(host), path, sizeof(path)), 0);
	assert_string_equal(host, "localhost:8443");
	assert_int_not_equal(akv_split_url("http://kv.vault.azure.net/x", host,
					   sizeof(host), path, sizeof(path)), 0);
	akv_default_resource("kv1.vault.azure.net", res, sizeof(res));
	assert_string_equal(res, "https://vault.azure.net");
	akv_default_resource("kv1.vault.azure.cn", res, sizeof(res));
	assert_string_equal(res, "https://vault.azure.cn");
	akv_default_resource("kv1.vault.usgovcloudapi.net", res, sizeof(res));
	assert_string_equal(res, "https://vault.usgovcloudapi.net");
	akv_default_resource("kv1.vault.microsoftazure.de", res, sizeof(res));
	assert_string_equal(res, "https://vault.microsoftazure.de");
	akv_default_resource("evilvault.azure.cn.example", res, sizeof(res));
	assert_string_equal(res, "https://vault.azure.net");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(base64_vectors),
		cmocka_unit_test(challenge),
		cmocka_unit_test(secrets_and_pages),
		cmocka_unit_test(tokens),
		cmocka_unit_test(urls_and_clouds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
