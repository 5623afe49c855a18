/* The KEYS options every command takes, and opening a disk with them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "akv/ade.h"
#include "cli/cli.h"
#include "core/log.h"
#include "unlock/unlock.h"

int cli_key_option(int c, const char *arg, struct cli_keys *k)
{
	int r = 0;

	/* "-" on a terminal is asked there by the command line */
	if (!k->ring.prompt)
		vu_keyring_set_prompt(&k->ring, cli_prompt, NULL);
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
		/* absolute: a mount's daemon revokes and renews read access
		 * after it has changed to / */
		free(k->ca_file_abs);
		k->ca_file_abs = realpath(arg, NULL);
		k->ca_file = k->ca_file_abs ? k->ca_file_abs : arg;
		return 1;
	case OPT_ACCESS_TOKEN_FILE:
		k->token_file = arg;
		return 1;
	case OPT_MACHINE:
		k->machine = arg;
		return 1;
	case OPT_ARM_URL:
		k->arm_url = arg;
		return 1;
	case OPT_ACCESS_SECONDS: {
		char *end;
		unsigned long v = strtoul(arg, &end, 10);
		if (*end || end == arg || v < 300 || v > 86400 * 7)
			return vu_fail(-EINVAL, "--access-seconds %s: expected "
				       "a number of seconds from 300 to 604800",
				       arg);
		k->access_seconds = (unsigned)v;
		return 1;
	}
	case OPT_KEEP_ACCESS:
		k->keep_access = 1;
		return 1;
	case OPT_CACHE_SIZE:
		if (cli_parse_size(arg, &k->cache_size) < 0 ||
		    k->cache_size < (8u << 20))
			return vu_fail(-EINVAL, "--cache-size %s: expected a "
				       "size of at least 8M (such as 256M, "
				       "2G)", arg);
		return 1;
	case OPT_CACHE_DIR:
		k->cache_dir = arg;
		return 1;
	case OPT_STATS:
		k->stats = 1;
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

int cli_open_images(char *image, struct cli_keys *k, struct vu_disk **d)
{
	const char *name;
	int r;

	*d = NULL;
	r = cli_image_resolve(k, image, &name);
	if (r < 0)
		return r;
	r = vu_disk_open(name, d);
	for (size_t i = 0; i < k->nadd && r == 0; i++) {
		r = cli_image_resolve(k, (char *)k->add_disks[i], &name);
		if (r == 0)
			r = vu_disk_add(*d, name);
	}
	if (r < 0) {
		vu_disk_close(*d);
		*d = NULL;
	}
	return r;
}

/* image and the --add-disk strings are argv's (see cli_image_resolve). */
int cli_open_disk(const char *image, struct cli_keys *k, struct vu_disk **d)
{
	int r;

	char why[512];
	unsigned long failures = vu_blk_source_failures(NULL, 0);

	*d = NULL;
	r = vu_keyring_add_env(&k->ring);
	if (r < 0)
		return r;
	if (k->ring.count)
		k->given = 1;
	r = cli_open_images((char *)image, k, d);
	if (r < 0)
		return r;
	r = unlock(*d, k);
	/* A read the image could not deliver may have been taken by a layer
	 * for "not this kind" or "no header here": what was found would rest
	 * on a disk read only in part, so nothing is shown. */
	if (r == 0 && vu_blk_source_failures(why, sizeof(why)) != failures)
		r = vu_fail(-EIO, "%s: the image could not be read while it "
			    "was opened, so what it holds is not shown: %s",
			    (*d)->images[0].path, why);
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

int cli_locked_status(const struct vu_disk *d, int keys_given, int status)
{
	for (size_t i = 0; keys_given && i < d->nvolumes; i++) {
		const struct vu_volume *v = &d->volumes[i];

		if (vu_volume_encrypted(v) && v->lock_error &&
		    status != EXIT_FAIL)
			status = cli_locked_fail(v);
	}
	if (d->lock_error && status != EXIT_FAIL)
		status = cli_disk_locked_fail(d);
	return status;
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
	if (!k->hold_images) {
		cli_images_end(k);
		free(k->ca_file_abs);
		k->ca_file_abs = NULL;
		k->ca_file = NULL;
	}
}

void cli_frame_close(struct cli_frame *f)
{
	vu_disk_close(f->d);
	f->d = NULL;
	cli_keys_free(&f->keys);
}

int cli_frame_end(struct cli_frame *f, int r)
{
	cli_frame_close(f);
	return r < 0 ? cli_fail(r) : r;
}
