/* Fuzz target: Azure Resource Manager's answers: a disk or snapshot, a
 * beginGetAccess operation (both shapes), an error body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "akv/arm_parse.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arm_disk *d = malloc(sizeof(*d));
	enum arm_op_status st;
	char err[256], *sas = NULL;
	size_t n = 0;

	if (!d)
		return 0;
	vu_log_set_sink(NULL, NULL);
	vu_err_clear();
	if (arm_disk_parse((const char *)data, size, d) == 0 &&
	    d->nsettings > ARM_MAX_SETTINGS)
		__builtin_trap();
	vu_err_clear();
	if (arm_access_parse((const char *)data, size, &st, &sas, &n, err,
			     sizeof(err)) == 0 && sas) {
		if (strlen(sas) + 1 != n)
			__builtin_trap();
		vu_secret_free(sas, n);
	}
	vu_err_clear();
	arm_error_text((const char *)data, size, err, sizeof(err));
	free(d);
	return 0;
}
