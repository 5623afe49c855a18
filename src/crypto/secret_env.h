/* Secrets given in the environment (AZURE_CLIENT_SECRET,
 * VHDUNLOCK_RECOVERY_PASSWORD), taken out of it at start.
 *
 * A variable stays in environ for the life of the process and every child
 * inherits it: az (the azure-cli sign-in), fusermount3 (umount, and
 * libfuse's own for a mount by a user).  So main() moves each one into
 * secret memory (locked, wiped at exit) and unsets it, and the code that
 * needs one asks here instead of getenv(). */
#ifndef VU_SECRET_ENV_H
#define VU_SECRET_ENV_H

/* Move the secret variables out of the environment.  Call once, first
 * thing, before any thread or child.  -ENOMEM (the variables are then
 * left unset: a secret is never left behind). */
int vu_secret_env_take(void);
/* The value taken for name, or NULL (not set, empty, or not a secret
 * variable); valid until exit. */
const char *vu_secret_env(const char *name);

#endif
