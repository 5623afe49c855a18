/* The sign-in chain and the token cache (see auth.h); the flows are in
 * auth_entra.c, auth_imds.c and auth_cli.c. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "akv/auth.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/secret_env.h"

#define MAX_LIFETIME 86400

struct akv_auth {
	enum akv_method method, chosen;
	char *token_file;
	struct akv_http_opts http;
	char resource[256];
	struct akv_token tok;
};

static const struct {
	const char *arg, *name;
} methods[] = {
	[AKV_AUTH_AUTO] = { "auto", "sign-in chain" },
	[AKV_AUTH_SECRET] = { "env", "client secret" },
	[AKV_AUTH_CERT] = { "certificate", "client certificate" },
	[AKV_AUTH_WORKLOAD] = { "workload-identity", "workload identity" },
	[AKV_AUTH_IMDS] = { "managed-identity", "managed identity" },
	[AKV_AUTH_CLI] = { "azure-cli", "Azure CLI account" },
	[AKV_AUTH_TOKEN] = { "token", "access token file" },
};

int akv_method_parse(const char *name, enum akv_method *m)
{
	for (size_t i = 1; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(name, methods[i].arg)) {
			*m = (enum akv_method)i;
			return 0;
		}
	return vu_fail(-EINVAL, "--auth %s: not one of env, certificate, "
		       "workload-identity, managed-identity, azure-cli, token",
		       name);
}

const char *akv_auth_name(const struct akv_auth *a)
{
	return methods[a->chosen].name;
}

void akv_token_clear(struct akv_token *t)
{
	vu_secret_free(t->value, t->cap);
	memset(t, 0, sizeof(*t));
}

static int set_value(struct akv_token *t, const char *v, size_t n)
{
	akv_token_clear(t);
	t->cap = n + 1;
	t->value = vu_secret_alloc(t->cap);
	if (!t->value)
		return vu_fail(-ENOMEM, "out of memory");
	memcpy(t->value, v, n);
	return 0;
}

/* json-c keeps its own copy of the body's strings; the object is freed
 * right after the token is copied out, which is as far as json-c lets
 * that copy be limited. */
int akv_token_parse(const char *body, const char *what, struct akv_token *t)
{
	json_object *o = json_tokener_parse(body), *v;
	time_t now = time(NULL);
	int r = 0;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "access_token", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !json_object_get_string_len(v)) {
		json_object_put(o);
		return vu_fail(-EPROTO, "%s: the answer holds no access_token",
			       what);
	}
	r = set_value(t, json_object_get_string(v),
		      (size_t)json_object_get_string_len(v));
	/* No token lives longer than a day: a larger figure (or one that
	 * would overflow) is taken as a day. */
	t->expires = now + 3600;
	if (json_object_object_get_ex(o, "expires_on", &v) &&
	    json_object_get_int64(v) > now)
		t->expires = json_object_get_int64(v) - now > MAX_LIFETIME
				     ? now + MAX_LIFETIME
				     : (time_t)json_object_get_int64(v);
	else if (json_object_object_get_ex(o, "expires_in", &v) &&
		 json_object_get_int64(v) > 0)
		t->expires = now + (json_object_get_int64(v) > MAX_LIFETIME
					    ? MAX_LIFETIME
					    : (time_t)json_object_get_int64(v));
	json_object_put(o);
	return r;
}

void akv_entra_error(const struct akv_response *r, char *out, size_t size)
{
	json_object *o = r->body ? json_tokener_parse(r->body) : NULL, *e, *d;
	const char *err = NULL, *desc = NULL;

	if (o && json_object_object_get_ex(o, "error", &e) &&
	    json_object_is_type(e, json_type_string))
		err = json_object_get_string(e);
	if (o && json_object_object_get_ex(o, "error_description", &d))
		desc = json_object_get_string(d);
	if (err)
		snprintf(out, size, "%s%s%.*s", err, desc ? ": " : "",
			 desc ? (int)strcspn(desc, "\r\n") : 0,
			 desc ? desc : "");
	else
		snprintf(out, size, "HTTP %ld", r->status);
	json_object_put(o);
}

static int read_token_file(const char *path, struct akv_token *t)
{
	char buf[16384];
	size_t n;
	int r;
	FILE *fp = fopen(path, "re");

	if (!fp)
		return vu_fail(-ENOENT, "%s: cannot open the access token "
			       "file: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
		     buf[n - 1] == ' '))
		n--;
	if (!n) {
		vu_cleanse(buf, sizeof(buf));
		return vu_fail(-EINVAL, "%s: the access token file is empty",
			       path);
	}
	r = set_value(t, buf, n);
	vu_cleanse(buf, sizeof(buf));
	t->expires = time(NULL) + 3600; /* read again after an hour */
	return r;
}

static int has(const char *var)
{
	const char *v = getenv(var);
	return v && *v;
}

/* Whether az is on PATH. */
static int have_az(void)
{
	const char *path = getenv("PATH");
	char dir[4096];

	for (const char *p = path; p && *p; p += strcspn(p, ":") + (p[strcspn(p, ":")] == ':')) {
		size_t n = strcspn(p, ":");
		snprintf(dir, sizeof(dir), "%.*s/az", (int)n, p);
		if (access(dir, X_OK) == 0)
			return 1;
		if (!p[n])
			break;
	}
	return 0;
}

/* The first method of CLI.md's order that is configured: the variables of
 * the first three, a metadata service that answers, az on PATH, a token
 * file.  With none, managed identity (its error then explains). */
static enum akv_method choose(const struct akv_auth *a)
{
	int tc = has("AZURE_TENANT_ID") && has("AZURE_CLIENT_ID");

	if (tc && vu_secret_env("AZURE_CLIENT_SECRET"))
		return AKV_AUTH_SECRET;
	if (tc && has("AZURE_CLIENT_CERTIFICATE_PATH"))
		return AKV_AUTH_CERT;
	if (has("AZURE_FEDERATED_TOKEN_FILE") && tc)
		return AKV_AUTH_WORKLOAD;
	if (akv_imds_reachable(&a->http))
		return AKV_AUTH_IMDS;
	if (have_az())
		return AKV_AUTH_CLI;
	if (a->token_file)
		return AKV_AUTH_TOKEN;
	return AKV_AUTH_IMDS;
}

int akv_auth_new(enum akv_method m, const char *token_file,
		 const struct akv_http_opts *http, struct akv_auth **out)
{
	struct akv_auth *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a || (token_file && !(a->token_file = strdup(token_file)))) {
		free(a);
		return vu_fail(-ENOMEM, "out of memory");
	}
	a->method = m;
	a->http = *http;
	a->chosen = m == AKV_AUTH_AUTO ? choose(a) : m;
	if (a->chosen == AKV_AUTH_TOKEN && !a->token_file) {
		akv_auth_free(a);
		return vu_fail(-EINVAL, "--auth token needs --access-token-file");
	}
	*out = a;
	return 0;
}

int akv_auth_token(struct akv_auth *a, const char *tenant,
		   const char *resource, const char **token)
{
	int r;

	*token = NULL;
	if (a->tok.value && !strcmp(a->resource, resource) &&
	    time(NULL) + 300 < a->tok.expires) {
		*token = a->tok.value;
		return 0;
	}
	akv_token_clear(&a->tok);
	snprintf(a->resource, sizeof(a->resource), "%s", resource);
	switch (a->chosen) {
	case AKV_AUTH_TOKEN:
		r = read_token_file(a->token_file, &a->tok);
		break;
	case AKV_AUTH_IMDS:
		r = akv_auth_imds(&a->http, resource, &a->tok);
		break;
	case AKV_AUTH_CLI:
		r = akv_auth_cli(resource, &a->tok);
		break;
	default:
		r = akv_auth_entra(a->chosen, &a->http, tenant, resource,
				   &a->tok);
		break;
	}
	if (r < 0)
		return r;
	*token = a->tok.value;
	return 0;
}

void akv_auth_free(struct akv_auth *a)
{
	if (!a)
		return;
	akv_token_clear(&a->tok);
	free(a->token_file);
	free(a);
}
