/* The Entra ID token endpoint's client-credential flows: client secret,
 * certificate (a signed JWT client assertion) and workload identity (the
 * federated token file, read again for every request, as it is rotated).
 * POST {AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "akv/auth.h"
#include "core/base64.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/secret_env.h"

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/* A growing form body in secret memory. */
struct form {
	char *buf;
	size_t len, cap;
};

static int form_add(struct form *f, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	size_t need = f->len + strlen(key) + strlen(esc ? esc : "") + 3;
	int r = 0;

	if (!esc)
		return vu_fail(-ENOMEM, "out of memory");
	if (need > f->cap) {
		size_t cap = need * 2;
		char *b = vu_secret_alloc(cap);
		if (!b) {
			r = vu_fail(-ENOMEM, "out of memory");
			goto out;
		}
		if (f->buf)
			memcpy(b, f->buf, f->len);
		vu_secret_free(f->buf, f->cap);
		f->buf = b;
		f->cap = cap;
	}
	f->len += (size_t)sprintf(f->buf + f->len, "%s%s=%s",
				  f->len ? "&" : "", key, esc);
out:
	vu_cleanse(esc, strlen(esc)); /* may be a secret */
	curl_free(esc);
	return r;
}

static const char *authority(char *buf, size_t size)
{
	const char *h = getenv("AZURE_AUTHORITY_HOST");
	size_t n;

	if (!h || !*h)
		h = "https://login.microsoftonline.com";
	n = strlen(h);
	while (n && h[n - 1] == '/')
		n--;
	snprintf(buf, size, "%.*s", (int)n, h);
	return buf;
}

/* The signed client assertion: header.claims.signature, each base64url.
 * PS256 with x5t#S256 (what current MSAL sends), or RS256 with x5t when
 * VHDUNLOCK_ASSERTION_ALG=RS256 (older tenants' documentation). */
static int assertion(const char *cert_path, const char *client_id,
		     const char *aud, char **out)
{
	const char *env = getenv("VHDUNLOCK_ASSERTION_ALG");
	int rs256 = env && !strcmp(env, "RS256");
	struct vu_cert_key *ck = NULL;
	uint8_t tp[32], jti[16], *sig = NULL;
	size_t tplen, siglen;
	char header[256], claims[1024], jtihex[33], *h64 = NULL, *c64 = NULL,
	     *tp64 = NULL, *s64 = NULL, *signing = NULL;
	time_t now = time(NULL);
	FILE *rnd;
	int r;

	*out = NULL;
	r = vu_cert_key_load(cert_path, &ck);
	if (r < 0)
		return r;
	r = vu_cert_key_thumbprint(ck, !rs256, tp, &tplen);
	if (r < 0)
		goto out;
	tp64 = vu_base64url_encode(tp, tplen);
	rnd = fopen("/dev/urandom", "re");
	if (!rnd || fread(jti, 1, sizeof(jti), rnd) != sizeof(jti)) {
		if (rnd)
			fclose(rnd);
		r = vu_fail(-EIO, "cannot read /dev/urandom");
		goto out;
	}
	fclose(rnd);
	for (int i = 0; i < 16; i++)
		sprintf(jtihex + 2 * i, "%02x", jti[i]);
	snprintf(header, sizeof(header),
		 "{\"alg\":\"%s\",\"typ\":\"JWT\",\"%s\":\"%s\"}",
		 rs256 ? "RS256" : "PS256", rs256 ? "x5t" : "x5t#S256",
		 tp64 ? tp64 : "");
	snprintf(claims, sizeof(claims),
		 "{\"aud\":\"%s\",\"iss\":\"%s\",\"sub\":\"%s\",\"jti\":\"%s\","
		 "\"nbf\":%lld,\"iat\":%lld,\"exp\":%lld}", aud, client_id,
		 client_id, jtihex, (long long)now, (long long)now,
		 (long long)now + 600);
	h64 = vu_base64url_encode((const uint8_t *)header, strlen(header));
	c64 = vu_base64url_encode((const uint8_t *)claims, strlen(claims));
	if (!tp64 || !h64 || !c64 ||
	    asprintf(&signing, "%s.%s", h64, c64) < 0) {
		signing = NULL;
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	r = vu_cert_key_sign(ck, rs256 ? VU_SIG_RS256 : VU_SIG_PS256, signing,
			     strlen(signing), &sig, &siglen);
	if (r < 0)
		goto out;
	s64 = vu_base64url_encode(sig, siglen);
	if (!s64 || asprintf(out, "%s.%s", signing, s64) < 0) {
		*out = NULL;
		r = vu_fail(-ENOMEM, "out of memory");
	}
out:
	free(tp64), free(h64), free(c64), free(s64), free(signing), free(sig);
	vu_cert_key_free(ck);
	return r;
}

/* The federated token file's content (re-read every time). */
static int federated_token(char **out)
{
	const char *path = getenv("AZURE_FEDERATED_TOKEN_FILE");
	char buf[16384];
	size_t n;
	FILE *fp = path ? fopen(path, "re") : NULL;

	*out = NULL;
	if (!fp)
		return vu_fail(-ENOENT, "%s: cannot open the federated token "
			       "file (AZURE_FEDERATED_TOKEN_FILE): %s",
			       path ? path : "(unset)", strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (!n)
		return vu_fail(-EINVAL, "%s: the federated token file is empty",
			       path);
	*out = strdup(buf);
	vu_cleanse(buf, sizeof(buf));
	return *out ? 0 : vu_fail(-ENOMEM, "out of memory");
}

int akv_auth_entra(enum akv_method m, const struct akv_http_opts *http,
		   const char *tenant, const char *resource,
		   struct akv_token *t)
{
	const char *env_tenant = getenv("AZURE_TENANT_ID");
	const char *client = getenv("AZURE_CLIENT_ID");
	char host[512], url[1024], scope[300], why[512], *cred = NULL;
	struct form f = { 0 };
	struct akv_response resp;
	int r;

	if (env_tenant && *env_tenant)
		tenant = env_tenant;
	if (!tenant || !client || !*client)
		return vu_fail(-EINVAL, "sign-in: AZURE_TENANT_ID and "
			       "AZURE_CLIENT_ID must be set");
	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token",
		 authority(host, sizeof(host)), tenant);
	snprintf(scope, sizeof(scope), "%s/.default", resource);
	r = form_add(&f, "grant_type", "client_credentials");
	if (!r)
		r = form_add(&f, "client_id", client);
	if (!r)
		r = form_add(&f, "scope", scope);
	if (!r && m == AKV_AUTH_SECRET) {
		r = form_add(&f, "client_secret",
			     vu_secret_env("AZURE_CLIENT_SECRET"));
	} else if (!r) {
		r = m == AKV_AUTH_CERT
			    ? assertion(getenv("AZURE_CLIENT_CERTIFICATE_PATH"),
					client, url, &cred)
			    : federated_token(&cred);
		if (!r)
			r = form_add(&f, "client_assertion_type", ASSERTION_TYPE);
		if (!r)
			r = form_add(&f, "client_assertion", cred);
	}
	if (cred) {
		vu_cleanse(cred, strlen(cred));
		free(cred);
	}
	if (r < 0)
		goto out;
	r = akv_http(http, "POST", url, NULL,
		     (const char *const[]){ "Content-Type: application/"
					    "x-www-form-urlencoded", NULL },
		     f.buf, &resp);
	if (r < 0)
		goto out;
	if (resp.status != 200) {
		akv_entra_error(&resp, why, sizeof(why));
		r = vu_fail(-EACCES, "sign-in (%s) to tenant %s refused: %s",
			    m == AKV_AUTH_SECRET ? "client secret"
			    : m == AKV_AUTH_CERT ? "client certificate"
						 : "workload identity",
			    tenant, why);
	} else {
		r = akv_token_parse(resp.body, "Entra ID token endpoint", t);
	}
	akv_response_free(&resp);
out:
	vu_secret_free(f.buf, f.cap);
	return r;
}
