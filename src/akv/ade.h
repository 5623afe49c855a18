/* The ADE secrets of a Key Vault as keys for unlocking: for a BitLocker
 * volume the secret tagged DiskEncryptionKeyFileName = <protector GUID>.BEK
 * (confirmed by the GUID inside the BEK), for LUKS the secrets tagged
 * LinuxPassPhraseFileName* (and MachineName with --machine), newest first;
 * wrapped secrets unwrapped with the exact KEK version their tags name,
 * through Key Vault or locally with --kek-pem.  --secret-url secrets are
 * fetched as given. */
#ifndef VU_AKV_ADE_H
#define VU_AKV_ADE_H

#include "akv/auth.h"
#include "akv/http.h"
#include "keys/keyring.h"

struct akv_ade_cfg {
	const char *vault_url;	   /* --key-vault, or NULL */
	const char **secret_urls;  /* --secret-url */
	size_t nsecret_urls;
	const char *kek_pem;	   /* --kek-pem, or NULL */
	const char *machine;	   /* --machine, or NULL */
	enum akv_method method;	   /* --auth */
	const char *token_file;	   /* --access-token-file */
	struct akv_http_opts http; /* --ca-file */
};

struct akv_ade;

int akv_ade_new(const struct akv_ade_cfg *cfg, struct akv_ade **out);
/* The key source to set as kr->source (valid while a lives). */
const struct vu_key_source *akv_ade_source(struct akv_ade *a);
/* Fetch the --secret-url secrets into kr now. */
int akv_ade_fetch_urls(struct akv_ade *a, struct vu_keyring *kr);
void akv_ade_free(struct akv_ade *a);

#endif
