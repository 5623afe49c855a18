/* BitLocker as an encryption scheme of a volume: its metadata opened,
 * its decrypted content, its kind.  The format itself is read by
 * src/bitlocker; which keys are tried is src/unlock's (try_bde.c). */
#include "bitlocker/bitlocker.h"
#include "disk/crypt.h"

static int bde_claims(enum vu_kind kind)
{
	return kind == VU_KIND_BITLOCKER;
}

static int bde_open(struct vu_blk *raw, void **state)
{
	struct vu_bde *b = NULL;
	int r = vu_bde_open(raw, &b);

	*state = b;
	return r;
}

static int bde_decrypted(void *state, struct vu_blk **plain)
{
	return vu_bde_volume_open(state, plain);
}

static void bde_close(void *state)
{
	vu_bde_close(state);
}

static const char *bde_kind_name(const void *state)
{
	(void)state;
	return vu_kind_name(VU_KIND_BITLOCKER);
}

const struct vu_crypt_ops vu_crypt_bitlocker = {
	.name = "bitlocker",
	.claims = bde_claims,
	.open = bde_open,
	.decrypted = bde_decrypted,
	.close = bde_close,
	.kind_name = bde_kind_name,
};
