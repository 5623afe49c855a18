/* The KEYS options every command takes, and opening a disk with them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"

int cli_key_option(int c, const char *arg, struct cli_keys *k)
{
	int r;

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
		r = vu_disk_unlock(*d, &k->ring);
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
	free(k->add_disks);
	k->add_disks = NULL;
	k->nadd = 0;
}
