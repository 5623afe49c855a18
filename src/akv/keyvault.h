/* Key Vault REST (api-version 7.4) over absolute URLs: a secret by URL,
 * the secrets of a vault (following nextLink), and unwrapkey with one
 * exact key version.  The first call goes without a token; Key Vault's
 * 401 challenge names the tenant and resource, and the call is made again
 * with a token for them. */
#ifndef VU_AKV_KEYVAULT_H
#define VU_AKV_KEYVAULT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "akv/auth.h"
#include "akv/http.h"

struct akv_tag {
	char *name, *value;
};

struct akv_secret {
	char *id;		/* https://v.vault.azure.net/secrets/NAME[/VER] */
	char *content_type;	/* "BEK", "Wrapped BEK", or NULL */
	time_t created, updated;
	int enabled;
	size_t ntags;
	struct akv_tag *tags;
	char *value;		/* secret memory, NUL-terminated; NULL in lists */
	size_t value_cap;
};

struct akv_client {
	struct akv_http_opts http;
	struct akv_auth *auth;	/* borrowed */
	char tenant[128];	/* from the challenge */
	char resource[256];
};

void akv_client_init(struct akv_client *c, const struct akv_http_opts *http,
		     struct akv_auth *auth);
/* GET a secret (the newest version when url names none). */
int akv_get_secret(struct akv_client *c, const char *url,
		   struct akv_secret *s);
/* Every secret of the vault at vault_url (tags, no values). */
int akv_list_secrets(struct akv_client *c, const char *vault_url,
		     struct akv_secret **out, size_t *n);
/* Unwrap in with the key version kek_url names (":443" tolerated; a URL
 * without version is refused: ADE keeps the version it was set up with).
 * The result in secret memory of *outlen + 1 bytes. */
int akv_unwrap(struct akv_client *c, const char *kek_url, const char *alg,
	       const uint8_t *in, size_t inlen, uint8_t **out,
	       size_t *outlen);
/* https://HOST[:443]/PATH -> HOST (the default port dropped: ADE's KEK
 * URLs may carry it) and PATH without query; 0 or -EINVAL. */
int akv_split_url(const char *url, char *host, size_t hsize, char *path,
		  size_t psize);
/* Key Vault's resource from the vault's DNS suffix (public and sovereign
 * clouds: vault.azure.net, vault.azure.cn, vault.usgovcloudapi.net,
 * vault.microsoftazure.de); the challenge's resource wins when it names
 * one. */
void akv_default_resource(const char *host, char *out, size_t size);
const char *akv_secret_tag(const struct akv_secret *s, const char *name);
void akv_secret_clear(struct akv_secret *s);
void akv_secrets_free(struct akv_secret *list, size_t n);

/* Parsers (also for the fuzz target): a secret bundle or list item, a
 * list page (items appended to *list, *next set to nextLink or NULL), a
 * WWW-Authenticate challenge. */
int akv_parse_secret(const char *body, struct akv_secret *s);
int akv_parse_list(const char *body, struct akv_secret **list, size_t *n,
		   char **next);
int akv_parse_challenge(const char *header, char *tenant, size_t tsize,
			char *resource, size_t rsize);

#endif
