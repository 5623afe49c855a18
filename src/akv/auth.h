/* Entra ID sign-in for Key Vault, in the order of CLI.md (the first
 * method configured wins; --auth forces one): client secret, client
 * certificate, workload identity, managed identity, the Azure CLI's
 * account, a token file.  Tokens are cached per resource until five
 * minutes before they expire, and live in secret memory. */
#ifndef VU_AKV_AUTH_H
#define VU_AKV_AUTH_H

#include <time.h>

#include "akv/http.h"

enum akv_method {
	AKV_AUTH_AUTO,		/* the chain */
	AKV_AUTH_SECRET,	/* "env" */
	AKV_AUTH_CERT,		/* "certificate" */
	AKV_AUTH_WORKLOAD,	/* "workload-identity" */
	AKV_AUTH_IMDS,		/* "managed-identity" */
	AKV_AUTH_CLI,		/* "azure-cli" */
	AKV_AUTH_TOKEN,		/* "token": --access-token-file */
};

struct akv_auth;

/* method from --auth (NULL: the chain); token_file from
 * --access-token-file (may be NULL). */
int akv_method_parse(const char *name, enum akv_method *m);
int akv_auth_new(enum akv_method m, const char *token_file,
		 const struct akv_http_opts *http, struct akv_auth **out);
/* A bearer token for resource ("https://vault.azure.net"); tenant from
 * Key Vault's challenge when AZURE_TENANT_ID is not set (may be NULL).
 * *token stays owned by a (valid until the next call or akv_auth_free). */
int akv_auth_token(struct akv_auth *a, const char *tenant,
		   const char *resource, const char **token);
/* The method used, for messages ("client secret", "managed identity"). */
const char *akv_auth_name(const struct akv_auth *a);
void akv_auth_free(struct akv_auth *a);

/* ---- inside the auth module (auth_*.c) ---- */
struct akv_token {
	char *value;		/* secret memory */
	size_t cap;
	time_t expires;
};
/* Parse a token response: access_token and expires_in / expires_on
 * (numbers or strings, as Entra ID and IMDS send them). */
int akv_token_parse(const char *body, const char *what, struct akv_token *t);
void akv_token_clear(struct akv_token *t);
/* The three client-credential flows of the Entra ID token endpoint. */
int akv_auth_entra(enum akv_method m, const struct akv_http_opts *http,
		   const char *tenant, const char *resource,
		   struct akv_token *t);
int akv_auth_imds(const struct akv_http_opts *http, const char *resource,
		  struct akv_token *t);
/* Whether the metadata service accepts a connection within a second. */
int akv_imds_reachable(const struct akv_http_opts *http);
int akv_auth_cli(const char *resource, struct akv_token *t);
/* An Entra ID or IMDS error body as one line: "invalid_client:
 * AADSTS7000215: Invalid client secret provided." */
void akv_entra_error(const struct akv_response *r, char *out, size_t size);

#endif
