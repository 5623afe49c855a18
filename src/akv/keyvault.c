/* Key Vault calls (see keyvault.h): the challenge, the token, and what
 * each refusal means for the user. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "akv/keyvault.h"
#include "core/base64.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"

#define API "api-version=7.4"

void akv_client_init(struct akv_client *c, const struct akv_http_opts *http,
		     struct akv_auth *auth)
{
	memset(c, 0, sizeof(*c));
	c->http = *http;
	c->auth = auth;
}

int akv_split_url(const char *url, char *host, size_t hsize, char *path,
		  size_t psize)
{
	const char *h, *p;
	size_t hl;

	if (strncmp(url, "https://", 8))
		return -EINVAL;
	h = url + 8;
	p = h + strcspn(h, "/?#");
	hl = (size_t)(p - h);
	if (hl > 4 && !strncmp(p - 4, ":443", 4))
		hl -= 4; /* ADE's KEK URLs may carry the default port */
	if (!hl || hl >= hsize)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(path, psize, "%.*s", (int)strcspn(p, "?#"), p);
	return 0;
}

void akv_default_resource(const char *host, char *out, size_t size)
{
	static const char *const suffixes[] = {
		"vault.azure.net", "vault.azure.cn",
		"vault.usgovcloudapi.net", "vault.microsoftazure.de",
	};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t hl = strlen(host), sl = strlen(suffixes[i]);
		if (hl > sl && !strcmp(host + hl - sl, suffixes[i]) &&
		    host[hl - sl - 1] == '.') {
			snprintf(out, size, "https://%s", suffixes[i]);
			return;
		}
	}
	snprintf(out, size, "https://vault.azure.net");
}

/* The error of a Key Vault answer: code, inner code and message. */
static void kv_body_error(const struct akv_response *r, char *code,
			  size_t csize, char *msg, size_t msize)
{
	json_object *o = r->body ? json_tokener_parse(r->body) : NULL, *e, *v,
		    *in;

	code[0] = msg[0] = '\0';
	if (o && json_object_object_get_ex(o, "error", &e) &&
	    json_object_is_type(e, json_type_object)) {
		if (json_object_object_get_ex(e, "code", &v))
			snprintf(code, csize, "%s", json_object_get_string(v));
		if (json_object_object_get_ex(e, "innererror", &in) &&
		    json_object_object_get_ex(in, "code", &v))
			snprintf(code, csize, "%s", json_object_get_string(v));
		if (json_object_object_get_ex(e, "message", &v))
			snprintf(msg, msize, "%.*s",
				 (int)strcspn(json_object_get_string(v), "\r\n"),
				 json_object_get_string(v));
	}
	json_object_put(o);
}

static int call(struct akv_client *c, const char *method, const char *url,
		const char *body, struct akv_response *resp);

/* A 404: name what is missing, and say so when it is only soft-deleted. */
static int not_found(struct akv_client *c, const char *host,
		     const char *path, const char *what, const char *msg)
{
	char kind[16] = "", name[256] = "", vault[128], url[1024];
	struct akv_response r;
	int deleted = 0;

	sscanf(path, "/%15[a-z]/%255[^/]", kind, name);
	snprintf(vault, sizeof(vault), "%.*s", (int)strcspn(host, ".:"), host);
	if (name[0] && (!strcmp(kind, "secrets") || !strcmp(kind, "keys"))) {
		snprintf(url, sizeof(url), "https://%s/deleted%s/%s", host,
			 kind, name);
		vu_err_clear();
		if (call(c, "GET", url, NULL, &r) == 0 && r.status == 200)
			deleted = 1;
		akv_response_free(&r);
		vu_err_clear();
	}
	if (deleted)
		return vu_fail(-ENOENT, "key vault: %s %s was deleted and can "
			       "still be recovered: az keyvault %s recover "
			       "--vault-name %s --name %s", what, name,
			       !strcmp(kind, "keys") ? "key" : "secret", vault,
			       name);
	return vu_fail(-ENOENT, "key vault %s: %s %s not found%s%s", vault,
		       what, name[0] ? name : path, msg[0] ? ": " : "", msg);
}

/* Turn a refusal into what the user should do.  perm is the permission
 * the operation needs ("secrets/get", "secrets/list", "keys/unwrapKey"). */
static int refusal(struct akv_client *c, const struct akv_response *r,
		   const char *url, const char *perm, const char *what)
{
	char host[256], path[768], code[64], msg[512], where[512];

	akv_url_for_message(url, where, sizeof(where));
	if (akv_split_url(url, host, sizeof(host), path, sizeof(path)) < 0)
		snprintf(host, sizeof(host), "?");
	kv_body_error(r, code, sizeof(code), msg, sizeof(msg));
	switch (r->status) {
	case 401:
		return vu_fail(-EACCES, "key vault %s rejected the token of the "
			       "%s: %s", host, akv_auth_name(c->auth),
			       msg[0] ? msg : "401 Unauthorized");
	case 403:
		if (strstr(code, "Disabled") || strstr(msg, "disabled"))
			return vu_fail(-EACCES, "%s: this %s version is "
				       "disabled (%s); enable it", where, what,
				       msg);
		if (strstr(code, "Expired") || strstr(msg, "expired"))
			return vu_fail(-EACCES, "%s: this %s version has "
				       "expired (%s)", where, what, msg);
		return vu_fail(-EACCES, "key vault %s refused %s: the %s has no "
			       "%s permission (grant it in the vault's access "
			       "policy, or a role such as Key Vault %s): %s",
			       host, where, akv_auth_name(c->auth), perm,
			       strstr(perm, "keys") ? "Crypto User"
						    : "Secrets User",
			       msg[0] ? msg : "403 Forbidden");
	case 404:
		return not_found(c, host, path, what, msg);
	default:
		return vu_fail(-EIO, "key vault: %s: HTTP %ld%s%s%s%s", where,
			       r->status, code[0] ? " " : "", code,
			       msg[0] ? ": " : "", msg);
	}
}

/* One call with the api-version, answering the challenge when needed. */
static int call(struct akv_client *c, const char *method, const char *url,
		const char *body, struct akv_response *resp)
{
	char full[2048], host[256], path[768];
	const char *token = NULL;
	const char *const json_hdr[] = { "Content-Type: application/json",
					 NULL };
	int r;

	snprintf(full, sizeof(full), "%s%s" API, url,
		 strchr(url, '?') ? "&" : "?");
	if (strstr(url, "api-version="))
		snprintf(full, sizeof(full), "%s", url);
	if (akv_split_url(full, host, sizeof(host), path, sizeof(path)) < 0)
		return vu_fail(-EINVAL, "key vault: %.200s is not an https:// "
			       "URL", url);
	if (!c->resource[0])
		akv_default_resource(host, c->resource, sizeof(c->resource));
	if (c->tenant[0] || getenv("AZURE_TENANT_ID")) {
		r = akv_auth_token(c->auth, c->tenant[0] ? c->tenant : NULL,
				   c->resource, &token);
		if (r < 0)
			return r;
	}
	r = akv_http(&c->http, method, full, token, body ? json_hdr : NULL,
		     body, resp);
	if (r < 0 || resp->status != 401 || c->tenant[0])
		return r;
	/* the challenge: which tenant signs in, for which resource */
	r = akv_parse_challenge(resp->www_authenticate, c->tenant,
				sizeof(c->tenant), c->resource,
				sizeof(c->resource));
	akv_response_free(resp);
	if (r < 0)
		return r;
	if (!c->resource[0])
		akv_default_resource(host, c->resource, sizeof(c->resource));
	r = akv_auth_token(c->auth, c->tenant, c->resource, &token);
	if (r < 0)
		return r;
	return akv_http(&c->http, method, full, token, body ? json_hdr : NULL,
			body, resp);
}

int akv_get_secret(struct akv_client *c, const char *url,
		   struct akv_secret *s)
{
	struct akv_response r;
	int e;

	memset(s, 0, sizeof(*s));
	e = call(c, "GET", url, NULL, &r);
	if (e < 0)
		return e;
	e = r.status == 200 ? akv_parse_secret(r.body, s)
			    : refusal(c, &r, url, "secrets/get", "secret");
	akv_response_free(&r);
	return e;
}

int akv_list_secrets(struct akv_client *c, const char *vault_url,
		     struct akv_secret **out, size_t *n)
{
	char host[256], path[768], nhost[256], url[2048];
	char *next = NULL;
	int e = 0, pages = 0;

	*out = NULL;
	*n = 0;
	if (akv_split_url(vault_url, host, sizeof(host), path, sizeof(path)) < 0)
		return vu_fail(-EINVAL, "--key-vault %.200s: an https:// URL "
			       "is expected", vault_url);
	snprintf(url, sizeof(url), "https://%s/secrets", host);
	for (;;) {
		struct akv_response r;

		e = call(c, "GET", url, NULL, &r);
		if (e < 0)
			break;
		if (r.status != 200) {
			e = refusal(c, &r, url, "secrets/list", "secret list");
			akv_response_free(&r);
			break;
		}
		e = akv_parse_list(r.body, out, n, &next);
		akv_response_free(&r);
		if (e < 0 || !next)
			break;
		/* follow nextLink only within the same vault */
		if (akv_split_url(next, nhost, sizeof(nhost), path,
			      sizeof(path)) < 0 || strcmp(nhost, host) ||
		    ++pages > 10000) {
			e = vu_fail(-EPROTO, "key vault %s: a nextLink outside "
				    "the vault", host);
			break;
		}
		snprintf(url, sizeof(url), "%s", next);
		free(next);
		next = NULL;
	}
	free(next);
	if (e < 0) {
		akv_secrets_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return e;
}

int akv_unwrap(struct akv_client *c, const char *kek_url, const char *alg,
	       const uint8_t *in, size_t inlen, uint8_t **out,
	       size_t *outlen)
{
	char host[256], path[768], name[256] = "", version[128] = "",
	     url[1200], *b64 = NULL, *body = NULL;
	struct akv_response r;
	json_object *o = NULL, *v;
	int e;

	*out = NULL;
	*outlen = 0;
	if (akv_split_url(kek_url, host, sizeof(host), path, sizeof(path)) < 0 ||
	    sscanf(path, "/keys/%255[^/]/%127[^/]", name, version) != 2)
		return vu_fail(-EINVAL, "key-encryption key URL %.300s names no "
			       "key version (https://VAULT/keys/NAME/VERSION "
			       "expected; ADE keeps the version it was set up "
			       "with)", kek_url);
	snprintf(url, sizeof(url), "https://%s/keys/%s/%s/unwrapkey", host,
		 name, version);
	b64 = vu_base64url_encode(in, inlen);
	if (!b64 || asprintf(&body, "{\"alg\":\"%s\",\"value\":\"%s\"}", alg,
			     b64) < 0) {
		free(b64);
		return vu_fail(-ENOMEM, "out of memory");
	}
	free(b64);
	e = call(c, "POST", url, body, &r);
	free(body);
	if (e < 0)
		return e;
	if (r.status != 200) {
		e = refusal(c, &r, url, "keys/unwrapKey", "key");
		akv_response_free(&r);
		return e;
	}
	o = json_tokener_parse(r.body);
	if (!o || !json_object_object_get_ex(o, "value", &v) ||
	    !json_object_is_type(v, json_type_string))
		e = vu_fail(-EPROTO, "key vault: unwrapkey of %s/%s answered "
			    "without a value", name, version);
	else
		e = vu_base64_decode("unwrapped key", json_object_get_string(v),
				     (size_t)json_object_get_string_len(v),
				     out, outlen);
	json_object_put(o);
	akv_response_free(&r);
	return e;
}
