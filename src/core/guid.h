#ifndef VU_GUID_H
#define VU_GUID_H

#include <stdint.h>

#define VU_GUID_STRLEN 37

/* Microsoft's mixed-endian GUID (GPT, VHD/VHDX, BitLocker): the first three
 * fields little-endian, the last eight bytes as stored.  Lower case. */
void vu_guid_format(const uint8_t g[16], char out[VU_GUID_STRLEN]);
/* Parse "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (braces allowed); 0 or -EINVAL. */
int vu_guid_parse(const char *s, uint8_t g[16]);
int vu_guid_is_zero(const uint8_t g[16]);

#endif
