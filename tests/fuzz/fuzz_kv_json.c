/* Fuzz target: what vhdunlock parses of Entra ID's and Key Vault's
 * answers: token responses, error bodies, secret bundles, list pages with
 * nextLink, and the WWW-Authenticate challenge. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "akv/auth.h"
#include "akv/keyvault.h"
#include "core/base64.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), tenant[128], resource[256], why[512];
	struct akv_secret s, *list = NULL;
	struct akv_token t = { 0 };
	struct akv_response r = { 0 };
	size_t n = 0, len;
	uint8_t *bytes;
	char *next = NULL;

	if (!text)
		return 0;
	vu_log_set_sink(NULL, NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	vu_err_clear();
	if (akv_parse_secret(text, &s) == 0)
		akv_secret_clear(&s);
	(void)akv_parse_list(text, &list, &n, &next);
	akv_secrets_free(list, n);
	free(next);
	(void)akv_parse_challenge(text, tenant, sizeof(tenant), resource,
				  sizeof(resource));
	if (akv_token_parse(text, "fuzz", &t) == 0)
		akv_token_clear(&t);
	r.body = text;
	r.status = 400;
	akv_entra_error(&r, why, sizeof(why));
	if (vu_base64_decode("fuzz", text, size, &bytes, &len) == 0)
		vu_secret_free(bytes, len + 1);
	vu_err_clear();
	free(text);
	return 0;
}
