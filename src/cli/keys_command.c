/* vhdunlock keys: which key opens each encrypted volume, and with --save a
 * copy of it in the form ADE keeps it: <protector GUID>.BEK for BitLocker
 * (the startup key file, byte for byte) and <volume UUID>.key for LUKS
 * (the key file or passphrase bytes), mode 0600, never overwriting a file
 * that holds something else. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crypto/crypto.h"

/* What opened one volume. */
struct found_key {
	const char *type;	/* "startup key", "key file", ..., "clear key" */
	const struct vu_key *key; /* NULL for a clear key */
	char protector[64];	/* BitLocker: the protector's GUID */
	int keyslot;		/* LUKS: the key slot, or -1 */
	char file[96];		/* the --save file name, or "" */
	char saved[4096];	/* where it was saved, or "" */
	const char *not_saved;	/* why not, or NULL */
};

static const char *key_type(enum vu_key_kind kind)
{
	static const char *const names[] = {
		[VU_KEY_BEK] = "startup key",
		[VU_KEY_RECOVERY_PASSWORD] = "recovery password",
		[VU_KEY_PASSWORD] = "password",
		[VU_KEY_PASSPHRASE] = "passphrase",
		[VU_KEY_KEYFILE] = "key file",
	};
	return names[kind];
}

static void describe(const struct vu_volume *v, const struct vu_keyring *kr,
		     struct found_key *f)
{
	const struct vu_bde *bde = vu_volume_bde(v);
	const struct vu_luks *luks = vu_volume_luks(v);

	memset(f, 0, sizeof(*f));
	f->keyslot = -1;
	f->key = v->key_number ? &kr->keys[v->key_number - 1] : NULL;
	f->type = f->key ? key_type(f->key->kind) : "clear key";
	if (bde) {
		int p = vu_bde_unlocked_by(bde);
		const struct vu_bde_info *in = vu_bde_info(bde);

		if (p >= 0)
			snprintf(f->protector, sizeof(f->protector), "%s",
				 in->protectors[p].guid);
		if (!f->key)
			f->not_saved = "protection is suspended: no key needed";
		else if (f->key->kind != VU_KEY_BEK)
			f->not_saved = f->key->kind == VU_KEY_PASSWORD
				? "opened with a password: there is no .BEK file to write"
				: "opened with a recovery password: there is no .BEK file to write";
		else {
			/* ADE names the .BEK file (and secret) in upper case */
			size_t n = 0;
			for (; f->protector[n]; n++)
				f->file[n] = (char)toupper(
					(unsigned char)f->protector[n]);
			snprintf(f->file + n, sizeof(f->file) - n, ".BEK");
		}
	} else if (luks) {
		f->keyslot = vu_luks_unlocked_by(luks);
		snprintf(f->file, sizeof(f->file), "%s.key",
			 vu_luks_info(luks)->uuid);
	}
}

/* Whether the file at fd holds exactly data. */
static int same_content(int fd, const uint8_t *data, size_t len)
{
	uint8_t *buf = vu_secret_alloc(len + 1);
	size_t got = 0;
	int same = 0;

	if (!buf)
		return 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, len + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == len + 1)
			break;
	}
	same = got == len && !memcmp(buf, data, len);
	vu_secret_free(buf, len + 1);
	return same;
}

/* Write the key to dir/f->file, mode 0600.  An existing file is kept: fine
 * when it holds the same bytes, an error otherwise. */
static int save_key(const char *dir, struct found_key *f)
{
	const struct vu_key *k = f->key;
	char path[4096];
	size_t done = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, f->file);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0 && errno == EEXIST) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && same_content(fd, k->data, k->len)) {
			close(fd);
			snprintf(f->saved, sizeof(f->saved), "%s", path);
			return 0;
		}
		if (fd >= 0)
			close(fd);
		return vu_fail(-EEXIST, "%s exists and holds something else; "
			       "not overwritten", path);
	}
	if (fd < 0)
		return vu_fail(-errno, "%s: cannot create: %s", path,
			       strerror(errno));
	while (done < k->len) {
		ssize_t n = write(fd, k->data + done, k->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			unlink(path);
			return vu_fail(-e, "%s: cannot write: %s", path,
				       strerror(e));
		}
		done += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		int e = errno;
		unlink(path);
		return vu_fail(-e, "%s: cannot write: %s", path, strerror(e));
	}
	snprintf(f->saved, sizeof(f->saved), "%s", path);
	return 0;
}

static json_object *volume_json(const struct vu_volume *v,
				const struct found_key *f)
{
	json_object *o = json_object_new_object(), *k;

	json_object_object_add(o, "id", json_object_new_string(v->id));
	json_object_object_add(o, "kind",
			       json_object_new_string(cli_volume_kind(v)));
	if (v->luks_header)
		json_object_object_add(o, "detached_header",
				       json_object_new_string(v->luks_header));
	json_object_object_add(o, "unlocked",
			       json_object_new_boolean(v->unlocked));
	if (!v->unlocked) {
		json_object_object_add(o, "error", json_object_new_string(
					       v->lock_error ? v->lock_error : ""));
		return o;
	}
	k = json_object_new_object();
	json_object_object_add(k, "type", json_object_new_string(f->type));
	json_object_object_add(k, "origin", f->key ?
			       json_object_new_string(f->key->origin) : NULL);
	if (vu_volume_bde(v))
		json_object_object_add(k, "protector", json_object_new_string(
					       f->protector));
	if (f->keyslot >= 0)
		json_object_object_add(k, "keyslot",
				       json_object_new_int(f->keyslot));
	json_object_object_add(o, "key", k);
	json_object_object_add(o, "unlocked_by",
			       json_object_new_string(v->unlocked_by));
	json_object_object_add(o, "saved", f->saved[0] ?
			       json_object_new_string(f->saved) : NULL);
	if (f->not_saved)
		json_object_object_add(o, "not_saved", json_object_new_string(
					       f->not_saved));
	return o;
}

static void volume_text(const struct vu_volume *v, const struct found_key *f,
			int saving)
{
	if (!v->unlocked) {
		printf("%-10s %-10s locked\n", v->id, cli_volume_kind(v));
		return;
	}
	printf("%-10s %-10s %s\n", v->id, cli_volume_kind(v), v->unlocked_by);
	if (f->saved[0])
		printf("%-10s %-10s   saved as %s\n", "", "", f->saved);
	else if (saving && f->not_saved)
		printf("%-10s %-10s   not saved: %s\n", "", "", f->not_saved);
}

static const char keys_help[] =
	"Usage: vhdunlock keys IMAGE [KEYS] [--save DIR] [--json]\n"
	"Find the key that opens each encrypted volume of IMAGE and say which\n"
	"protector or key slot it opens; with --save, write it to DIR as\n"
	"<protector GUID>.BEK (BitLocker) or <volume UUID>.key (LUKS), mode\n"
	"0600 (DIR is made, mode 0700, if missing).\n\n"
	"  --save DIR    write the keys found to DIR\n"
	"  --json        one JSON document on standard output\n";

static const struct cli_command keys_command = {
	CLI_COMMAND("keys", keys_help, "one IMAGE", 1, 1, "h"),
	.longopts = {
		{ "save", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		CLI_COMMON_OPTIONS,
	},
};

/* Describe each encrypted volume of d, save its key into save (when not
 * NULL) and show it: as text, or into vols when that is not NULL.
 * EXIT_OK, or cli_fail's status for a key that could not be saved (no
 * volume is shown after it); *any: d has an encrypted volume. */
static int show_volumes(const struct vu_disk *d, const struct vu_keyring *kr,
			const char *save, json_object *vols, int *any)
{
	for (size_t i = 0; i < d->nvolumes; i++) {
		const struct vu_volume *v = &d->volumes[i];
		struct found_key f;
		int r;

		if (!vu_volume_encrypted(v))
			continue;
		*any = 1;
		describe(v, kr, &f);
		if (save && v->unlocked && f.file[0] && f.key) {
			vu_err_clear();
			r = save_key(save, &f);
			if (r < 0)
				return cli_fail(r);
		}
		if (vols)
			json_object_array_add(vols, volume_json(v, &f));
		else
			volume_text(v, &f, save != NULL);
	}
	return EXIT_OK;
}

int cmd_keys(int argc, char **argv)
{
	struct cli_frame f = { 0 };
	const char *save = NULL;
	json_object *doc = NULL, *vols = NULL;
	int json = 0, c, r, any = 0;

	while ((c = cli_next_option(&keys_command, argc, argv, &f.keys,
				    &r)) > 0) {
		if (c == 'j')
			json = 1;
		else if (c == 's')
			save = optarg;
	}
	if (c < 0)
		goto out;
	if (save && mkdir(save, 0700) < 0 && errno != EEXIST) {
		r = cli_fail(vu_fail(-errno, "%s: cannot make the directory: %s",
				     save, strerror(errno)));
		goto out;
	}
	r = cli_open_disk(argv[optind], &f.keys, &f.d);
	if (r < 0) {
		r = cli_fail(r);
		goto out;
	}
	if (json) {
		doc = json_object_new_object();
		vols = json_object_new_array();
		json_object_object_add(doc, "image", json_object_new_string(
					       argv[optind]));
		json_object_object_add(doc, "volumes", vols);
	}
	r = show_volumes(f.d, &f.keys.ring, save, vols, &any);
	if (json && r == EXIT_OK)
		puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!any && r == EXIT_OK && !json)
		printf("no encrypted volume on %s\n", argv[optind]);
	/* what keys is asked about: every encrypted volume left locked is
	 * named, whether keys were given or not */
	r = cli_locked_status(f.d, 1, r);
out:
	json_object_put(doc);
	cli_frame_close(&f);
	return r;
}
