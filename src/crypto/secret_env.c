/* Secrets given in the environment, kept in secret memory: secret_env.h. */
#include "crypto/secret_env.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

static const char *const names[] = {
	"AZURE_CLIENT_SECRET",
	"VHDUNLOCK_RECOVERY_PASSWORD",
};
#define N (sizeof(names) / sizeof(names[0]))

static char *values[N];
static size_t sizes[N];

static void wipe(void)
{
	for (size_t i = 0; i < N; i++) {
		vu_secret_free(values[i], sizes[i]);
		values[i] = NULL;
	}
}

int vu_secret_env_take(void)
{
	int r = 0;

	for (size_t i = 0; i < N; i++) {
		char *v = getenv(names[i]);
		size_t len;

		if (!v)
			continue;
		len = strlen(v);
		if (len && !values[i]) {
			values[i] = vu_secret_alloc(len + 1);
			if (values[i]) {
				memcpy(values[i], v, len);
				sizes[i] = len + 1;
			} else {
				r = -ENOMEM;
			}
		}
		/* the environment block's copy too, not only the name */
		vu_cleanse(v, len);
		unsetenv(names[i]);
	}
	atexit(wipe);
	return r;
}

const char *vu_secret_env(const char *name)
{
	for (size_t i = 0; i < N; i++)
		if (!strcmp(name, names[i]))
			return values[i];
	return NULL;
}
