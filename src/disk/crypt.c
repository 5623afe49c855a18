/* The registry of encryption schemes. */
#include "disk/crypt.h"

/* One line per scheme: add_volume and vu_volume_encrypted look here. */
static const struct vu_crypt_ops *const schemes[] = {
	&vu_crypt_bitlocker,
	&vu_crypt_luks,
};

const struct vu_crypt_ops *vu_crypt_for_kind(enum vu_kind kind)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i]->claims(kind))
			return schemes[i];
	return NULL;
}
