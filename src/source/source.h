/* The bottom of the stack by name: an image the front end opened itself
 * (a URL source, registered under its URL without query, the name every
 * message and `info` shows) or else a file path.  The container layer
 * opens every image through here, so it never sees a SAS. */
#ifndef VU_SOURCE_H
#define VU_SOURCE_H

#include "core/blk.h"

/* Make b (a reference is taken) what vu_source_open(name) returns. */
int vu_source_register(const char *name, struct vu_blk *b);
/* The registered source of that name (a new reference), else the file. */
int vu_source_open(const char *name, struct vu_blk **out);
/* The registered source of that name (borrowed), or NULL. */
struct vu_blk *vu_source_find(const char *name);
/* Drop every registered source's reference. */
void vu_source_clear(void);

#endif
