/* Unit tests: the keyring reads keys from files exactly as CLI.md says:
 * recovery passwords and passwords trimmed of surrounding white space,
 * LUKS passphrases with exactly one trailing newline removed, key files
 * byte for byte; empty, oversized and directory arguments refused.  "-"
 * on a terminal goes through the prompt callback only, and without one is
 * refused naming the option to use; a pipe is read without asking. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/log.h"
#include "crypto/secret_env.h"
#include "keys/keyring.h"

static char dir[] = "/tmp/vu-keys-XXXXXX";

static const char *file(const char *name, const void *data, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

static void test_text_trimmed(void **state)
{
	struct vu_keyring kr;

	(void)state;
	vu_keyring_init(&kr);
	assert_int_equal(vu_keyring_add_text(&kr, VU_KEY_RECOVERY_PASSWORD,
					     file("rp", " 111111-222222\r\n", 16)), 0);
	assert_int_equal(vu_keyring_add_text(&kr, VU_KEY_PASSWORD,
					     file("pw", "pass word\n", 10)), 0);
	assert_int_equal(kr.count, 2);
	assert_int_equal(kr.keys[0].len, 13);
	assert_memory_equal(kr.keys[0].data, "111111-222222", 14); /* with NUL */
	assert_string_equal((const char *)kr.keys[1].data, "pass word");
	assert_int_equal(kr.keys[1].kind, VU_KEY_PASSWORD);
	/* the origin names the file, never the key */
	assert_non_null(strstr(kr.keys[1].origin, "/pw"));
	vu_keyring_free(&kr);
	assert_int_equal(kr.count, 0);
}

static void test_passphrase_one_newline(void **state)
{
	struct vu_keyring kr;

	(void)state;
	vu_keyring_init(&kr);
	assert_int_equal(vu_keyring_add_passphrase(&kr, file("p1", " secret \n\n", 10)), 0);
	assert_int_equal(kr.keys[0].len, 9);
	assert_memory_equal(kr.keys[0].data, " secret \n", 9);
	assert_int_equal(vu_keyring_add_passphrase(&kr, file("p2", "x", 1)), 0);
	assert_int_equal(kr.keys[1].len, 1);
	vu_keyring_free(&kr);
}

static void test_keyfile_byte_for_byte(void **state)
{
	uint8_t data[172];
	struct vu_keyring kr;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 1);
	data[171] = '\n'; /* kept: a key file is used as it is */
	vu_keyring_init(&kr);
	assert_int_equal(vu_keyring_add_keyfile(&kr, file("kf", data, sizeof(data))), 0);
	assert_int_equal(kr.keys[0].len, 172);
	assert_memory_equal(kr.keys[0].data, data, 172);
	assert_int_equal(kr.keys[0].kind, VU_KEY_KEYFILE);
	vu_keyring_free(&kr);
}

static void test_bad_files(void **state)
{
	struct vu_keyring kr;
	char *big = calloc(1, 70000);

	(void)state;
	vu_keyring_init(&kr);
	vu_err_clear();
	assert_int_equal(vu_keyring_add_text(&kr, VU_KEY_RECOVERY_PASSWORD,
					     file("empty", " \n", 2)), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "is empty"));
	vu_err_clear();
	assert_int_equal(vu_keyring_add_passphrase(&kr, file("nl", "\n", 1)), -EINVAL);
	vu_err_clear();
	assert_int_equal(vu_keyring_add_keyfile(&kr, file("big", big, 70000)), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "larger than"));
	vu_err_clear();
	assert_int_equal(vu_keyring_add_keyfile(&kr, dir), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "directory"));
	vu_err_clear();
	assert_int_equal(vu_keyring_add_text(&kr, VU_KEY_PASSWORD, "/nonexistent/pw"), -ENOENT);
	vu_err_clear();
	assert_int_equal(kr.count, 0);
	free(big);
	vu_keyring_free(&kr);
}

static void test_bek_dir_lookup(void **state)
{
	struct vu_keyring kr;
	char name[64];

	(void)state;
	vu_keyring_init(&kr);
	file("AAAA.BEK", "bek bytes", 9);
	assert_int_equal(vu_keyring_add_bek(&kr, dir), 0);
	assert_int_equal(kr.count, 0); /* a directory is searched on demand */
	assert_int_equal(vu_keyring_find_bek(&kr, "BBBB.BEK"), 0);
	assert_int_equal(vu_keyring_find_bek(&kr, "AAAA.BEK"), 1);
	assert_int_equal(vu_keyring_find_bek(&kr, "AAAA.BEK"), 1); /* once */
	assert_int_equal(kr.count, 1);
	assert_memory_equal(kr.keys[0].data, "bek bytes", 9);
	snprintf(name, sizeof(name), "%s/AAAA.BEK", dir);
	assert_string_equal(kr.keys[0].origin, name);
	vu_keyring_free(&kr);
}

static void test_env(void **state)
{
	struct vu_keyring kr;

	(void)state;
	vu_keyring_init(&kr);
	unsetenv("VHDUNLOCK_RECOVERY_PASSWORD");
	assert_int_equal(vu_keyring_add_env(&kr), 0);
	assert_int_equal(kr.count, 0);
	setenv("VHDUNLOCK_RECOVERY_PASSWORD", "123", 1);
	/* read only once taken out of the environment (main does it first):
	 * no child inherits it */
	assert_int_equal(vu_keyring_add_env(&kr), 0);
	assert_int_equal(kr.count, 0);
	assert_int_equal(vu_secret_env_take(), 0);
	assert_null(getenv("VHDUNLOCK_RECOVERY_PASSWORD"));
	assert_int_equal(vu_keyring_add_env(&kr), 0);
	assert_int_equal(kr.count, 1);
	assert_string_equal((const char *)kr.keys[0].data, "123");
	assert_string_equal(kr.keys[0].origin, "VHDUNLOCK_RECOVERY_PASSWORD");
	vu_keyring_free(&kr);
}

/* The prompt callback as a test sees it: what it was asked, and what it
 * answers (or fails with). */
struct asked {
	int calls;
	char question[64];
	size_t cap;
	const char *answer;
	int fail;
};

static int fake_prompt(void *ctx, const char *question, char *buf,
		       size_t cap)
{
	struct asked *a = ctx;
	size_t n;

	a->calls++;
	snprintf(a->question, sizeof(a->question), "%s", question);
	a->cap = cap;
	if (a->fail)
		return vu_fail(a->fail, "the prompt failed");
	n = strlen(a->answer);
	assert_true(n < cap);
	memcpy(buf, a->answer, n + 1);
	return (int)n;
}

/* Standard input becomes fd (a terminal's or a pipe's end); the old one
 * is returned for restore_stdin. */
static int swap_stdin(int fd)
{
	int saved = dup(STDIN_FILENO);

	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	return saved;
}

static void restore_stdin(int saved)
{
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
}

static void test_prompt_on_terminal(void **state)
{
	struct asked a = { .answer = " 111111-222222 " };
	struct vu_keyring kr;
	int master, slave, saved;

	(void)state;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		fail_msg("no pseudo-terminal: %s", strerror(errno));
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	saved = swap_stdin(slave);
	vu_keyring_init(&kr);

	/* no callback: no read from the terminal, an error naming the
	 * option that gives the key without one */
	vu_err_clear();
	assert_true(vu_keyring_add_text(&kr, VU_KEY_RECOVERY_PASSWORD,
					"-") < 0);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "--recovery-password-file"));
	vu_err_clear();
	assert_true(vu_keyring_add_passphrase(&kr, "-") < 0);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "--passphrase-file"));
	assert_int_equal(kr.count, 0);

	/* with one: asked once per key, the answer trimmed as from a file */
	vu_keyring_set_prompt(&kr, fake_prompt, &a);
	assert_int_equal(vu_keyring_add_text(&kr, VU_KEY_RECOVERY_PASSWORD,
					     "-"), 0);
	assert_int_equal(a.calls, 1);
	assert_string_equal(a.question, "Recovery password");
	assert_true(a.cap > 1024); /* room for a line */
	assert_int_equal(kr.count, 1);
	assert_string_equal((const char *)kr.keys[0].data, "111111-222222");
	assert_string_equal(kr.keys[0].origin, "-");

	a.answer = "pass phrase ";
	assert_int_equal(vu_keyring_add_passphrase(&kr, "-"), 0);
	assert_string_equal(a.question, "LUKS passphrase");
	assert_string_equal((const char *)kr.keys[1].data, "pass phrase ");

	/* an empty answer is refused as an empty file is; a failed prompt's
	 * error is the caller's */
	a.answer = "";
	vu_err_clear();
	assert_int_equal(vu_keyring_add_text(&kr, VU_KEY_PASSWORD, "-"),
			 -EINVAL);
	assert_string_equal(a.question, "BitLocker password");
	a.fail = -EIO;
	vu_err_clear();
	assert_int_equal(vu_keyring_add_keyfile(&kr, "-"), -EIO);
	assert_string_equal(a.question, "LUKS key file content");
	assert_int_equal(kr.count, 2);

	vu_keyring_free(&kr);
	restore_stdin(saved);
	close(master);
}

static void test_pipe_not_asked(void **state)
{
	struct asked a = { .answer = "never" };
	struct vu_keyring kr;
	int p[2], saved;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "from a pipe\n", 12), 12);
	close(p[1]);
	saved = swap_stdin(p[0]);
	vu_keyring_init(&kr);
	vu_keyring_set_prompt(&kr, fake_prompt, &a);
	assert_int_equal(vu_keyring_add_passphrase(&kr, "-"), 0);
	assert_int_equal(a.calls, 0);
	assert_string_equal((const char *)kr.keys[0].data, "from a pipe");
	vu_keyring_free(&kr);
	restore_stdin(saved);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_trimmed),
		cmocka_unit_test(test_passphrase_one_newline),
		cmocka_unit_test(test_keyfile_byte_for_byte),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_bek_dir_lookup),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_prompt_on_terminal),
		cmocka_unit_test(test_pipe_not_asked),
	};

	vu_log_set_sink(NULL, NULL);
	return cmocka_run_group_tests(tests, setup, teardown);
}
