/* LUKS (1 and 2) as an encryption scheme of a volume: its metadata
 * opened (inline header), its decrypted content, its kind.  The format
 * itself is read by src/luks; which keys are tried, and headers kept
 * apart from their volume, are src/unlock's (try_luks.c, unlock.c). */
#include "disk/crypt.h"
#include "luks/luks.h"

static int luks_claims(enum vu_kind kind)
{
	return kind == VU_KIND_LUKS1 || kind == VU_KIND_LUKS2;
}

static int luks_open(struct vu_blk *raw, void **state)
{
	struct vu_luks *l = NULL;
	int r = vu_luks_open(raw, NULL, &l);

	*state = l;
	return r;
}

static int luks_decrypted(void *state, struct vu_blk **plain)
{
	return vu_luks_volume_open(state, plain);
}

static void luks_close(void *state)
{
	vu_luks_close(state);
}

static const char *luks_kind_name(const void *state)
{
	return vu_kind_name(vu_luks_info(state)->version == 1 ? VU_KIND_LUKS1
							       : VU_KIND_LUKS2);
}

const struct vu_crypt_ops vu_crypt_luks = {
	.name = "luks",
	.claims = luks_claims,
	.open = luks_open,
	.decrypted = luks_decrypted,
	.close = luks_close,
	.kind_name = luks_kind_name,
};
