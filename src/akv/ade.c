/* See ade.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "akv/ade.h"
#include "akv/keyvault.h"
#include "bitlocker/bitlocker.h"
#include "core/base64.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"

#define TAG_FILE "DiskEncryptionKeyFileName"
#define TAG_KEK "DiskEncryptionKeyEncryptionKeyURL"
#define TAG_ALG "DiskEncryptionKeyEncryptionAlgorithm"
#define TAG_MACHINE "MachineName"
#define LINUX_PREFIX "LinuxPassPhraseFileName"

struct akv_ade {
	struct akv_ade_cfg cfg;
	struct akv_auth *auth;
	struct akv_client client;
	struct vu_key_source source;
	int listed;
	struct akv_secret *list; /* the vault's secrets, tags only */
	size_t nlist;
};

/* The bytes a secret stands for: base64 of the BEK or key file, or, when
 * wrapped, base64url of those bytes wrapped with the KEK version its tags
 * name. */
static int secret_bytes(struct akv_ade *a, const struct akv_secret *s,
			uint8_t **out, size_t *len)
{
	const char *kek = akv_secret_tag(s, TAG_KEK);
	const char *alg = akv_secret_tag(s, TAG_ALG);
	int wrapped = kek || (s->content_type &&
			      !strcasecmp(s->content_type, "Wrapped BEK"));
	uint8_t *raw;
	size_t rawlen;
	int r;

	r = vu_base64_decode(s->id, s->value, strlen(s->value), &raw, &rawlen);
	if (r < 0 || !wrapped) {
		*out = raw;
		*len = rawlen;
		return r;
	}
	if (!alg)
		alg = "RSA-OAEP";
	if (a->cfg.kek_pem)
		r = vu_rsa_unwrap_pem(a->cfg.kek_pem, alg, raw, rawlen, out, len);
	else if (!kek)
		r = vu_fail(-EINVAL, "%s is wrapped but has no %s tag: give the "
			    "key with --kek-pem", s->id, TAG_KEK);
	else
		r = akv_unwrap(&a->client, kek, alg, raw, rawlen, out, len);
	vu_secret_free(raw, rawlen + 1);
	return r;
}

/* Fetch the secret (with its value) and add it to kr as kind; for a BEK
 * the GUID inside must be guid.  1 added, 0 skipped, <0 error. */
static int take(struct akv_ade *a, struct vu_keyring *kr, const char *url,
		enum vu_key_kind kind, const char *guid)
{
	struct akv_secret s;
	uint8_t *bytes = NULL;
	size_t len = 0;
	char inside[VU_GUID_STRLEN];
	int r;

	r = akv_get_secret(&a->client, url, &s);
	if (r < 0)
		return r;
	r = secret_bytes(a, &s, &bytes, &len);
	if (r < 0)
		goto out;
	if (kind == VU_KEY_BEK && guid) {
		r = vu_bde_bek_guid(bytes, len, s.id, inside);
		if (r < 0 || strcasecmp(inside, guid)) {
			vu_log(VU_LOG_WARN, "%s: %s; skipped", s.id, r < 0 ?
			       vu_errmsg(r) : "its BEK holds another key");
			vu_err_clear();
			vu_secret_free(bytes, len + 1);
			r = 0;
			goto out;
		}
	}
	vu_log(VU_LOG_INFO, "key vault: using secret %s", s.id);
	r = vu_keyring_add_owned(kr, kind, s.id, bytes, len, len + 1);
	r = r < 0 ? r : 1;
out:
	akv_secret_clear(&s);
	return r;
}

static int ensure_list(struct akv_ade *a)
{
	if (a->listed)
		return 0;
	a->listed = 1;
	return akv_list_secrets(&a->client, a->cfg.vault_url, &a->list,
				&a->nlist);
}

static time_t newest(const struct akv_secret *s)
{
	return s->updated > s->created ? s->updated : s->created;
}

static int by_age(const void *x, const void *y)
{
	const struct akv_secret *const *a = x, *const *b = y;
	time_t ta = newest(*a), tb = newest(*b);

	return ta < tb ? 1 : ta > tb ? -1 : 0;
}

/* The listed secrets whose tags match, newest first (pointers into the
 * list; *n of them). */
static const struct akv_secret **matching(struct akv_ade *a, const char *file,
					  int prefix, size_t *n)
{
	const struct akv_secret **m = calloc(a->nlist ? a->nlist : 1,
					     sizeof(*m));

	*n = 0;
	if (!m)
		return NULL;
	for (size_t i = 0; i < a->nlist; i++) {
		const struct akv_secret *s = &a->list[i];
		const char *f = akv_secret_tag(s, TAG_FILE);
		const char *mach = akv_secret_tag(s, TAG_MACHINE);

		if (!s->enabled || !f)
			continue;
		if (prefix ? strncasecmp(f, file, strlen(file))
			   : strcasecmp(f, file))
			continue;
		if (prefix && a->cfg.machine &&
		    (!mach || strcasecmp(mach, a->cfg.machine)))
			continue;
		m[(*n)++] = s;
	}
	qsort(m, *n, sizeof(*m), by_age);
	return m;
}

static int find_bek(void *arg, struct vu_keyring *kr, const char *guid)
{
	struct akv_ade *a = arg;
	const struct akv_secret **m;
	char file[VU_GUID_STRLEN + 8] = "";
	size_t n;
	int r;

	if (!a->cfg.vault_url)
		return 0;
	r = ensure_list(a);
	if (r < 0)
		return r;
	/* ADE names the file (and tags the secret) in upper case */
	for (size_t i = 0; i < sizeof(file) - 5 && guid[i]; i++)
		file[i] = (char)toupper((unsigned char)guid[i]), file[i + 1] = 0;
	strcat(file, ".BEK");
	m = matching(a, file, 0, &n);
	if (!m)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < n && r == 0; i++)
		r = take(a, kr, m[i]->id, VU_KEY_BEK, guid);
	if (!n)
		vu_log(VU_LOG_WARN, "key vault %s: no secret tagged %s=%s "
		       "among its %zu secrets", a->cfg.vault_url, TAG_FILE,
		       file, a->nlist);
	free(m);
	return r;
}

static int find_luks(void *arg, struct vu_keyring *kr)
{
	struct akv_ade *a = arg;
	const struct akv_secret **m;
	size_t n;
	int r, added = 0;

	if (!a->cfg.vault_url)
		return 0;
	r = ensure_list(a);
	if (r < 0)
		return r;
	m = matching(a, LINUX_PREFIX, 1, &n);
	if (!m)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		r = take(a, kr, m[i]->id, VU_KEY_KEYFILE, NULL);
		if (r < 0)
			break;
		added += r;
	}
	if (!n)
		vu_log(VU_LOG_WARN, "key vault %s: no secret tagged %s=%s*%s%s "
		       "among its %zu secrets", a->cfg.vault_url, TAG_FILE,
		       LINUX_PREFIX, a->cfg.machine ? " and " TAG_MACHINE "=" : "",
		       a->cfg.machine ? a->cfg.machine : "", a->nlist);
	free(m);
	return r < 0 ? r : added;
}

int akv_ade_fetch_urls(struct akv_ade *a, struct vu_keyring *kr)
{
	for (size_t i = 0; i < a->cfg.nsecret_urls; i++) {
		struct akv_secret s;
		uint8_t *bytes;
		size_t len;
		char guid[VU_GUID_STRLEN];
		int r = akv_get_secret(&a->client, a->cfg.secret_urls[i], &s);

		if (r < 0)
			return r;
		r = secret_bytes(a, &s, &bytes, &len);
		if (r == 0) {
			/* a BEK file says so itself; anything else is a LUKS key */
			int bek = vu_bde_bek_guid(bytes, len, s.id, guid) == 0;
			vu_err_clear();
			r = vu_keyring_add_owned(kr, bek ? VU_KEY_BEK
							 : VU_KEY_KEYFILE,
						 s.id, bytes, len, len + 1);
		}
		akv_secret_clear(&s);
		if (r < 0)
			return r;
	}
	return 0;
}

int akv_ade_new(const struct akv_ade_cfg *cfg, struct akv_ade **out)
{
	struct akv_ade *a = calloc(1, sizeof(*a));
	int r;

	*out = NULL;
	if (!a)
		return vu_fail(-ENOMEM, "out of memory");
	a->cfg = *cfg;
	r = akv_auth_new(cfg->method, cfg->token_file, &cfg->http, &a->auth);
	if (r < 0) {
		free(a);
		return r;
	}
	akv_client_init(&a->client, &cfg->http, a->auth);
	a->source = (struct vu_key_source){ find_bek, find_luks, a };
	*out = a;
	return 0;
}

const struct vu_key_source *akv_ade_source(struct akv_ade *a)
{
	return &a->source;
}

void akv_ade_free(struct akv_ade *a)
{
	if (!a)
		return;
	akv_secrets_free(a->list, a->nlist);
	akv_auth_free(a->auth);
	free(a);
}
