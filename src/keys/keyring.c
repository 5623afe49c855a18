#include "keys/keyring.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/secret_env.h"

/* Key files are small: a BEK is a few hundred bytes, a password a line. */
#define MAX_KEY_FILE (64 * 1024)

void vu_keyring_init(struct vu_keyring *kr)
{
	memset(kr, 0, sizeof(*kr));
}

void vu_keyring_free(struct vu_keyring *kr)
{
	for (size_t i = 0; i < kr->count; i++) {
		vu_secret_free(kr->keys[i].data, kr->keys[i].alloc);
		free(kr->keys[i].origin);
	}
	for (size_t i = 0; i < kr->ndirs; i++)
		free(kr->bek_dirs[i]);
	for (size_t i = 0; i < kr->nheaders; i++)
		free(kr->luks_headers[i]);
	free(kr->keys);
	free(kr->bek_dirs);
	free(kr->luks_headers);
	memset(kr, 0, sizeof(*kr));
}

/* Takes data (secret memory of alloc bytes) on success and on failure. */
static int push(struct vu_keyring *kr, enum vu_key_kind kind,
		const char *origin, uint8_t *data, size_t len, size_t alloc)
{
	struct vu_key *k = realloc(kr->keys, (kr->count + 1) * sizeof(*k));
	char *o = strdup(origin);

	if (!k || !o) {
		free(o);
		if (k)
			kr->keys = k;
		vu_secret_free(data, alloc);
		return vu_fail(-ENOMEM, "out of memory");
	}
	kr->keys = k;
	kr->keys[kr->count++] = (struct vu_key){ kind, o, data, len, alloc };
	return 0;
}

int vu_keyring_add_owned(struct vu_keyring *kr, enum vu_key_kind kind,
			 const char *origin, uint8_t *data, size_t len,
			 size_t alloc)
{
	return push(kr, kind, origin, data, len, alloc);
}

/* Read a whole small file (or fd) into secret memory. */
static int slurp_fd(int fd, const char *name, uint8_t **out, size_t *len)
{
	uint8_t *buf = vu_secret_alloc(MAX_KEY_FILE + 1);
	size_t n = 0;

	*out = NULL;
	*len = 0;
	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	for (;;) {
		ssize_t r = read(fd, buf + n, MAX_KEY_FILE + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			vu_secret_free(buf, MAX_KEY_FILE + 1);
			return vu_fail(-EIO, "%s: cannot read: %s", name,
				       strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > MAX_KEY_FILE) {
			vu_secret_free(buf, MAX_KEY_FILE + 1);
			return vu_fail(-EINVAL, "%s: larger than %d bytes; not "
				       "a key file", name, MAX_KEY_FILE);
		}
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Copy the first len bytes into an exact-size secret buffer. */
static int shrink(uint8_t **buf, size_t len)
{
	uint8_t *b = vu_secret_alloc(len ? len : 1);

	if (!b) {
		vu_secret_free(*buf, MAX_KEY_FILE + 1);
		*buf = NULL;
		return vu_fail(-ENOMEM, "out of memory");
	}
	memcpy(b, *buf, len);
	vu_secret_free(*buf, MAX_KEY_FILE + 1);
	*buf = b;
	return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vu_fail(errno == ENOENT ? -ENOENT : -EIO,
			       "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return vu_fail(-EINVAL, "%s: is a directory, expected a key "
			       "file", path);
	}
	r = slurp_fd(fd, path, out, len);
	close(fd);
	if (r == 0)
		r = shrink(out, *len);
	return r;
}

void vu_keyring_set_prompt(struct vu_keyring *kr, vu_prompt_fn fn,
			   void *ctx)
{
	kr->prompt = fn;
	kr->prompt_ctx = ctx;
}

/* The option that gives a key of kind in a file, for messages. */
static const char *file_option(enum vu_key_kind kind)
{
	switch (kind) {
	case VU_KEY_RECOVERY_PASSWORD:
		return "--recovery-password-file";
	case VU_KEY_PASSWORD:
		return "--password-file";
	case VU_KEY_PASSPHRASE:
		return "--passphrase-file";
	case VU_KEY_KEYFILE:
		return "--key-file";
	default:
		return "--bek";
	}
}

/* "-" on a terminal: one line asked through the caller's prompt (the
 * library does no terminal I/O itself); none set, a clear refusal rather
 * than a read that would wait silently for a key typed with echo on. */
static int ask(struct vu_keyring *kr, enum vu_key_kind kind,
	       const char *question, uint8_t **out, size_t *len)
{
	uint8_t *buf;
	int r;

	*out = NULL;
	*len = 0;
	if (!kr->prompt)
		return vu_fail(-EINVAL, "%s: standard input is a terminal "
			       "and nothing here can ask for it without "
			       "echo: give it in a file (%s FILE) or through "
			       "a pipe (%s -)", question, file_option(kind),
			       file_option(kind));
	buf = vu_secret_alloc(MAX_KEY_FILE + 1);
	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	r = kr->prompt(kr->prompt_ctx, question, (char *)buf,
		       MAX_KEY_FILE + 1);
	if (r < 0 || r > MAX_KEY_FILE) {
		vu_secret_free(buf, MAX_KEY_FILE + 1);
		return r < 0 ? r : vu_fail(-EINVAL, "%s: answer too long",
					   question);
	}
	*out = buf;
	*len = (size_t)r;
	return shrink(out, *len);
}

/* "-": a terminal is asked (see ask); a pipe is read as it is. */
static int read_stdin(struct vu_keyring *kr, enum vu_key_kind kind,
		      const char *question, uint8_t **out, size_t *len)
{
	int r;

	if (isatty(STDIN_FILENO))
		return ask(kr, kind, question, out, len);
	r = slurp_fd(STDIN_FILENO, "standard input", out, len);
	return r == 0 ? shrink(out, *len) : r;
}

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int vu_keyring_add_text(struct vu_keyring *kr, enum vu_key_kind kind,
			const char *path)
{
	uint8_t *buf;
	size_t len, start = 0;
	int r;

	r = !strcmp(path, "-")
		    ? read_stdin(kr, kind,
				 kind == VU_KEY_PASSWORD ? "BitLocker password"
							 : "Recovery password",
				 &buf, &len)
		    : read_file(path, &buf, &len);
	if (r < 0)
		return r;
	/* A password may hold inner spaces; only the ends are trimmed. */
	{
		size_t end = len;
		uint8_t *key;

		while (end && is_space(buf[end - 1]))
			end--;
		while (start < end && is_space(buf[start]))
			start++;
		if (start == end) {
			vu_secret_free(buf, len);
			return vu_fail(-EINVAL, "%s: is empty, expected a %s",
				       strcmp(path, "-") ? path
							 : "standard input",
				       kind == VU_KEY_PASSWORD
					       ? "password"
					       : "recovery password");
		}
		key = vu_secret_alloc(end - start + 1); /* + NUL */
		if (!key) {
			vu_secret_free(buf, len);
			return vu_fail(-ENOMEM, "out of memory");
		}
		memcpy(key, buf + start, end - start);
		vu_secret_free(buf, len);
		return push(kr, kind, path, key, end - start, end - start + 1);
	}
}

/* Read a key file (or "-") into an exact-size secret buffer with a NUL
 * after it, so text keys can be used as C strings too. */
static int read_key(struct vu_keyring *kr, enum vu_key_kind kind,
		    const char *path, const char *question, uint8_t **out,
		    size_t *len)
{
	uint8_t *buf, *key;
	int r = !strcmp(path, "-") ? read_stdin(kr, kind, question, &buf, len)
				   : read_file(path, &buf, len);

	if (r < 0)
		return r;
	key = vu_secret_alloc(*len + 1);
	if (!key) {
		vu_secret_free(buf, *len ? *len : 1);
		return vu_fail(-ENOMEM, "out of memory");
	}
	memcpy(key, buf, *len);
	vu_secret_free(buf, *len ? *len : 1);
	*out = key;
	return 0;
}

int vu_keyring_add_passphrase(struct vu_keyring *kr, const char *path)
{
	uint8_t *key;
	size_t len, alloc;
	int r = read_key(kr, VU_KEY_PASSPHRASE, path, "LUKS passphrase", &key,
			 &len);

	if (r < 0)
		return r;
	alloc = len + 1;
	if (len && key[len - 1] == '\n')
		key[--len] = 0;
	if (!len) {
		vu_secret_free(key, alloc);
		return vu_fail(-EINVAL, "%s: is empty, expected a passphrase",
			       strcmp(path, "-") ? path : "standard input");
	}
	return push(kr, VU_KEY_PASSPHRASE, path, key, len, alloc);
}

int vu_keyring_add_keyfile(struct vu_keyring *kr, const char *path)
{
	uint8_t *key;
	size_t len;
	int r = read_key(kr, VU_KEY_KEYFILE, path, "LUKS key file content",
			 &key, &len);

	if (r < 0)
		return r;
	if (!len) {
		vu_secret_free(key, 1);
		return vu_fail(-EINVAL, "%s: is empty, expected a key file",
			       strcmp(path, "-") ? path : "standard input");
	}
	return push(kr, VU_KEY_KEYFILE, path, key, len, len + 1);
}

int vu_keyring_add_luks_header(struct vu_keyring *kr, const char *path)
{
	char **h;

	if (access(path, R_OK) < 0)
		return vu_fail(errno == ENOENT ? -ENOENT : -EIO,
			       "%s: cannot read the LUKS header: %s", path,
			       strerror(errno));
	h = realloc(kr->luks_headers, (kr->nheaders + 1) * sizeof(*h));
	if (!h)
		return vu_fail(-ENOMEM, "out of memory");
	kr->luks_headers = h;
	if (!(h[kr->nheaders] = strdup(path)))
		return vu_fail(-ENOMEM, "out of memory");
	kr->nheaders++;
	return 0;
}

int vu_keyring_add_env(struct vu_keyring *kr)
{
	const char *v = vu_secret_env("VHDUNLOCK_RECOVERY_PASSWORD");
	size_t len;
	uint8_t *buf;

	if (!v || !*v)
		return 0;
	len = strlen(v);
	buf = vu_secret_alloc(len + 1);
	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	memcpy(buf, v, len);
	return push(kr, VU_KEY_RECOVERY_PASSWORD, "VHDUNLOCK_RECOVERY_PASSWORD",
		    buf, len, len + 1);
}

int vu_keyring_add_bek(struct vu_keyring *kr, const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t len;
	int r;

	if (strcmp(path, "-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		char **d = realloc(kr->bek_dirs, (kr->ndirs + 1) * sizeof(*d));
		if (!d)
			return vu_fail(-ENOMEM, "out of memory");
		kr->bek_dirs = d;
		if (!(d[kr->ndirs] = strdup(path)))
			return vu_fail(-ENOMEM, "out of memory");
		kr->ndirs++;
		return 0;
	}
	r = !strcmp(path, "-") ? slurp_fd(STDIN_FILENO, "standard input",
					  &buf, &len)
			       : read_file(path, &buf, &len);
	if (r == 0 && !strcmp(path, "-"))
		r = shrink(&buf, len);
	if (r < 0)
		return r;
	return push(kr, VU_KEY_BEK, path, buf, len, len ? len : 1);
}

int vu_keyring_find_bek(struct vu_keyring *kr, const char *name)
{
	for (size_t i = 0; i < kr->ndirs; i++) {
		char path[4096];
		uint8_t *buf;
		size_t len;
		int r;

		snprintf(path, sizeof(path), "%s/%s", kr->bek_dirs[i], name);
		for (size_t k = 0; k < kr->count; k++)
			if (!strcmp(kr->keys[k].origin, path))
				return 1;
		if (access(path, F_OK) < 0)
			continue;
		r = read_file(path, &buf, &len);
		if (r < 0)
			return r;
		r = push(kr, VU_KEY_BEK, path, buf, len, len ? len : 1);
		return r < 0 ? r : 1;
	}
	return 0;
}
