/* The KEYS options every command takes, and opening a disk with them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "akv/ade.h"
#include "cli/cli.h"
#include "core/log.h"

int cli_key_option(int c, const char *arg, struct cli_keys *k)
{
	int r = 0;

	switch (c) {
	case OPT_BEK:
		r = vu_keyring_add_bek(&k->ring, arg);
		break;
	case OPT_RECOVERY_PASSWORD_FILE:
		r = vu_keyring_add_text(&k->ring, VU_KEY_RECOVERY_PASSWORD, arg);
		break;
	case OPT_PASSWORD_FILE:
		r = vu_keyring_add_text(&k->ring, VU_KEY_PASSWORD, arg);
		break;
	case OPT_PASSPHRASE_FILE:
		r = vu_keyring_add_passphrase(&k->ring, arg);
		break;
	case OPT_KEY_FILE:
		r = vu_keyring_add_keyfile(&k->ring, arg);
		break;
	case OPT_LUKS_HEADER:
		r = vu_keyring_add_luks_header(&k->ring, arg);
		break;
	case OPT_KEY_VAULT:
		k->vault_url = arg;
		break;
	case OPT_KEK_PEM:
		k->kek_pem = arg;
		return 1;
	case OPT_AUTH:
		k->auth = arg;
		return 1;
	case OPT_CA_FILE:
		k->ca_file = arg;
		return 1;
	case OPT_ACCESS_TOKEN_FILE:
		k->token_file = arg;
		return 1;
	case OPT_MACHINE:
		k->machine = arg;
		return 1;
	case OPT_SECRET_URL: {
		const char **u = realloc(k->secret_urls,
					 (k->nsecret_urls + 1) * sizeof(*u));
		if (!u)
			return vu_fail(-ENOMEM, "out of memory");
		u[k->nsecret_urls++] = arg;
		k->secret_urls = u;
		break;
	}
	case OPT_ADD_DISK: {
		/* not a key, but every command that opens the image takes it */
		const char **a = realloc(k->add_disks,
					 (k->nadd + 1) * sizeof(*a));
		if (!a)
			return vu_fail(-ENOMEM, "out of memory");
		a[k->nadd++] = arg;
		k->add_disks = a;
		return 1;
	}
	default:
		return 0;
	}
	k->given = 1;
	return r < 0 ? r : 1;
}

/* Unlock with the keys given, and with Key Vault's ADE secrets when asked:
 * --secret-url ones fetched first, the vault's found for each volume as
 * unlocking needs them. */
static int unlock(struct vu_disk *d, struct cli_keys *k)
{
	struct akv_ade_cfg cfg = {
		.vault_url = k->vault_url, .secret_urls = k->secret_urls,
		.nsecret_urls = k->nsecret_urls, .kek_pem = k->kek_pem,
		.machine = k->machine, .token_file = k->token_file,
		.http = { .ca_file = k->ca_file },
	};
	struct akv_ade *ade = NULL;
	int r;

	if (!k->vault_url && !k->nsecret_urls) {
		if (k->kek_pem || k->auth || k->token_file || k->machine)
			vu_log(VU_LOG_WARN, "--kek-pem, --auth, "
			       "--access-token-file and --machine are used "
			       "only with --key-vault or --secret-url");
		return vu_disk_unlock(d, &k->ring);
	}
	if (k->auth && (r = akv_method_parse(k->auth, &cfg.method)) < 0)
		return r;
	r = akv_ade_new(&cfg, &ade);
	if (r < 0)
		return r;
	r = akv_ade_fetch_urls(ade, &k->ring);
	if (r == 0) {
		k->ring.source = akv_ade_source(ade);
		r = vu_disk_unlock(d, &k->ring);
		k->ring.source = NULL;
		k->ring.luks_fetched = 0;
	}
	akv_ade_free(ade);
	return r;
}

int cli_open_disk(const char *image, struct cli_keys *k, struct vu_disk **d)
{
	int r;

	*d = NULL;
	r = vu_keyring_add_env(&k->ring);
	if (r < 0)
		return r;
	if (k->ring.count)
		k->given = 1;
	r = vu_disk_open(image, d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < k->nadd && r == 0; i++)
		r = vu_disk_add(*d, k->add_disks[i]);
	if (r == 0)
		r = unlock(*d, k);
	if (r < 0) {
		vu_disk_close(*d);
		*d = NULL;
	}
	return r;
}

int cli_locked_fail(const struct vu_volume *v)
{
	fprintf(stderr, "%s: %s\n", vu_prog, v->lock_error);
	return EXIT_NOKEY;
}

int cli_disk_locked_fail(const struct vu_disk *d)
{
	fprintf(stderr, "%s: %s\n", vu_prog, d->lock_error);
	return EXIT_NOKEY;
}

void cli_keys_free(struct cli_keys *k)
{
	vu_keyring_free(&k->ring);
	free(k->secret_urls);
	k->secret_urls = NULL;
	k->nsecret_urls = 0;
	free(k->add_disks);
	k->add_disks = NULL;
	k->nadd = 0;
}
