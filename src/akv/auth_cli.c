/* The Azure CLI's signed-in account: run `az account get-access-token
 * --resource R --output json` (no shell; the token comes back on a pipe
 * into secret memory) and read accessToken and expires_on. */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "akv/auth.h"
#include "core/error.h"
#include "crypto/crypto.h"

extern char **environ;

#define MAX_OUT 65536

/* Read both pipes to their end together (poll), so that az filling one
 * while we wait on the other cannot stall it; what does not fit is read
 * and dropped. */
static void drain(int fo, char *out, size_t omax, size_t *on, int fe,
		  char *err, size_t emax, size_t *en)
{
	struct pollfd p[2] = { { fo, POLLIN, 0 }, { fe, POLLIN, 0 } };
	char sink[4096];

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < 2; i++) {
			char *buf = i ? err : out;
			size_t max = i ? emax : omax, *len = i ? en : on;
			ssize_t k;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (*len < max)
				k = read(p[i].fd, buf + *len, max - *len);
			else
				k = read(p[i].fd, sink, sizeof(sink));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				p[i].fd = -1;
			else if (*len < max)
				*len += (size_t)k;
		}
	}
}

int akv_auth_cli(const char *resource, struct akv_token *t)
{
	char *argv[] = { "az", "account", "get-access-token", "--resource",
			 (char *)resource, "--output", "json", NULL };
	posix_spawn_file_actions_t fa;
	char *out = vu_secret_alloc(MAX_OUT), err[1024] = "";
	int po[2], pe[2], status = 0, r = 0;
	size_t n = 0, ne = 0;
	json_object *o = NULL, *v;
	pid_t pid;

	if (!out)
		return vu_fail(-ENOMEM, "out of memory");
	if (pipe(po) < 0 || pipe(pe) < 0) {
		vu_secret_free(out, MAX_OUT);
		return vu_fail(-errno, "cannot make a pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawn_file_actions_addclose(&fa, po[0]);
	posix_spawn_file_actions_addclose(&fa, pe[0]);
	r = posix_spawnp(&pid, "az", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	if (r != 0) {
		close(po[0]);
		close(pe[0]);
		vu_secret_free(out, MAX_OUT);
		return vu_fail(-ENOENT, "azure-cli: cannot run az: %s",
			       strerror(r));
	}
	drain(po[0], out, MAX_OUT - 1, &n, pe[0], err, sizeof(err) - 1, &ne);
	close(po[0]);
	close(pe[0]);
	waitpid(pid, &status, 0);
	out[n] = '\0';
	err[ne] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		err[strcspn(err, "\n")] = '\0';
		r = vu_fail(-EACCES, "azure-cli: az account get-access-token "
			    "failed: %s", err[0] ? err : "no message");
		goto out;
	}
	o = json_tokener_parse(out);
	if (!o || !json_object_object_get_ex(o, "accessToken", &v) ||
	    !json_object_get_string_len(v)) {
		r = vu_fail(-EPROTO, "azure-cli: az printed no accessToken");
		goto out;
	}
	akv_token_clear(t);
	t->cap = (size_t)json_object_get_string_len(v) + 1;
	t->value = vu_secret_alloc(t->cap);
	if (!t->value) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	memcpy(t->value, json_object_get_string(v), t->cap - 1);
	t->expires = time(NULL) + 600;
	if (json_object_object_get_ex(o, "expires_on", &v) &&
	    json_object_get_int64(v) > time(NULL)) {
		t->expires = (time_t)json_object_get_int64(v);
	} else if (json_object_object_get_ex(o, "expiresOn", &v) &&
		   json_object_is_type(v, json_type_string)) {
		/* az before 2.54: only "2026-11-24 02:00:00.000000", local time */
		struct tm tm = { .tm_isdst = -1 };
		time_t at;
		if (strptime(json_object_get_string(v), "%Y-%m-%d %H:%M:%S",
			     &tm) && (at = mktime(&tm)) > time(NULL))
			t->expires = at;
	}
	r = 0;
out:
	json_object_put(o);
	vu_secret_free(out, MAX_OUT);
	return r;
}
