/* The footer of a fixed VHD as decrypt writes it: what Azure asks of a
 * disk uploaded as a page blob (DESIGN.md), after Microsoft's "Virtual
 * Hard Disk Image Format Specification". */
#ifndef VU_CLI_VHD_FOOTER_H
#define VU_CLI_VHD_FOOTER_H

#include <stdint.h>
#include <time.h>

#define VHD_FOOTER_SIZE 512

/* The footer of a fixed disk of size bytes (a multiple of 512) made at
 * time now, with id as its unique id. */
void vhd_footer_fixed(uint8_t f[VHD_FOOTER_SIZE], uint64_t size, time_t now,
		      const uint8_t id[16]);

#endif
