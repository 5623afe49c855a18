/* Sizes for people: "1.5 GiB", "512 B". */
#ifndef VU_HUMAN_H
#define VU_HUMAN_H

#include <stddef.h>
#include <stdint.h>

void vu_human_size(uint64_t bytes, char *out, size_t size);

#endif
