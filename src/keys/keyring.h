/* The keys a user gave: read from files (or standard input, or asked for
 * through the caller's prompt) into secret memory, never from argv.  Each encrypted volume is tried
 * with every key of a fitting kind. */
#ifndef VU_KEYRING_H
#define VU_KEYRING_H

#include <stddef.h>
#include <stdint.h>

enum vu_key_kind {
	VU_KEY_BEK,		  /* BitLocker startup key file (.BEK) */
	VU_KEY_RECOVERY_PASSWORD, /* BitLocker 48-digit recovery password */
	VU_KEY_PASSWORD,	  /* BitLocker user password */
	VU_KEY_PASSPHRASE,	  /* LUKS passphrase (one trailing newline removed) */
	VU_KEY_KEYFILE,		  /* LUKS key file, byte for byte */
};

struct vu_key {
	enum vu_key_kind kind;
	char *origin;	  /* where it came from, for messages: a path, "-",
			     "VHDUNLOCK_RECOVERY_PASSWORD"; never the key */
	uint8_t *data;	  /* secret memory; text keys end in a NUL byte */
	size_t len;	  /* bytes of key (without that NUL) */
	size_t alloc;	  /* bytes allocated, for wiping */
};

struct vu_keyring;

/* Ask the user for a secret interactively: the command line's prompt on
 * the terminal, without echo.  question names what is asked ("Recovery
 * password"); the answer goes into buf (cap bytes of secret memory, which
 * the keyring wipes) without its newline and NUL-terminated.  Returns its
 * length (below cap), or <0 with a message.  A library does no UI: a
 * keyring without one refuses a key on a terminal's standard input. */
typedef int (*vu_prompt_fn)(void *ctx, const char *question, char *buf,
			    size_t cap);

/* Keys fetched on demand from elsewhere (Key Vault), so that only what the
 * volumes found need is asked for.  find_bek is asked for the startup key
 * of protector guid ("{...}" form without braces, as info prints it) when
 * no --bek file or directory holds it; find_luks once, the first time a
 * LUKS volume needs keys.  Each adds what it finds with
 * vu_keyring_add_owned and returns the number added (0: none), or <0 when
 * the source failed (its message says what to do); that ends unlocking. */
struct vu_key_source {
	int (*find_bek)(void *arg, struct vu_keyring *kr, const char *guid);
	int (*find_luks)(void *arg, struct vu_keyring *kr);
	void *arg;
};

struct vu_keyring {
	size_t count;
	struct vu_key *keys;
	char **bek_dirs;  /* --bek DIR: searched for <GUID>.BEK on demand */
	size_t ndirs;
	char **luks_headers; /* --luks-header FILE: detached LUKS headers */
	size_t nheaders;
	const struct vu_key_source *source; /* or NULL */
	int luks_fetched;    /* source->find_luks was asked */
	vu_prompt_fn prompt; /* or NULL: never interactive */
	void *prompt_ctx;
};

void vu_keyring_init(struct vu_keyring *kr);
/* How "-" asks when standard input is a terminal (see vu_prompt_fn). */
void vu_keyring_set_prompt(struct vu_keyring *kr, vu_prompt_fn fn,
			   void *ctx);
/* Wipes and frees every key. */
void vu_keyring_free(struct vu_keyring *kr);

/* --bek FILE|DIR.  A directory is remembered and searched later. */
int vu_keyring_add_bek(struct vu_keyring *kr, const char *path);
/* --recovery-password-file FILE / --password-file FILE ("-" reads standard
 * input; a terminal there is asked through the prompt callback).
 * Surrounding white space and one trailing newline are removed. */
int vu_keyring_add_text(struct vu_keyring *kr, enum vu_key_kind kind,
			const char *path);
/* --passphrase-file FILE: exactly one trailing newline is removed, nothing
 * else (a passphrase may end in spaces).  --key-file FILE: byte for byte,
 * as ADE's LinuxPassPhraseFileName (172 bytes of base64, no newline). */
int vu_keyring_add_passphrase(struct vu_keyring *kr, const char *path);
int vu_keyring_add_keyfile(struct vu_keyring *kr, const char *path);
/* --luks-header FILE (not a secret: it holds no key without a passphrase). */
int vu_keyring_add_luks_header(struct vu_keyring *kr, const char *path);
/* Add a key held in secret memory (data of alloc bytes, len of them the
 * key), taking data in every case; origin names it in messages (a file, a
 * Key Vault secret's id: never the key). */
int vu_keyring_add_owned(struct vu_keyring *kr, enum vu_key_kind kind,
			 const char *origin, uint8_t *data, size_t len,
			 size_t alloc);
/* VHDUNLOCK_RECOVERY_PASSWORD, if set. */
int vu_keyring_add_env(struct vu_keyring *kr);
/* Load <name> (e.g. "<GUID>.BEK") from the --bek directories into the
 * ring, unless already there; 1 when found, 0 when not, <0 on error. */
int vu_keyring_find_bek(struct vu_keyring *kr, const char *name);

#endif
