/* LVM2's text metadata: a small config language of sections
 * `name { ... }`, values `key = value` with strings, integers and flat
 * arrays `[ "pv0", 0 ]`, and `#` comments.  Internal to src/lvm (and its
 * unit tests). */
#ifndef VU_LVM_CONFIG_H
#define VU_LVM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Limits that keep hostile text from costing more than its size. */
#define LVM_CFG_MAX_DEPTH 16

enum lvm_vtype { LVM_V_INT, LVM_V_FLOAT, LVM_V_STR, LVM_V_ARRAY };

struct lvm_value {
	enum lvm_vtype type;
	int64_t i;		 /* LVM_V_INT */
	char *s;		 /* LVM_V_STR (unescaped), LVM_V_FLOAT (text) */
	struct lvm_value *items; /* LVM_V_ARRAY: n scalars */
	size_t n;
};

struct lvm_cfg {
	char *key;	   /* NULL for the root */
	int section;	   /* 1: child holds the entries; 0: v holds the value */
	struct lvm_value v;
	struct lvm_cfg *child; /* first entry of a section, in text order */
	struct lvm_cfg *next;  /* next sibling */
};

/* Parse len bytes of text (stops early at a NUL).  0 with *out the root
 * section, -EUCLEAN with a message naming the line, or -ENOMEM. */
int lvm_cfg_parse(const char *text, size_t len, struct lvm_cfg **out);
void lvm_cfg_free(struct lvm_cfg *c);

/* The first direct entry of section sec called key, or NULL. */
const struct lvm_cfg *lvm_cfg_get(const struct lvm_cfg *sec, const char *key);
/* A direct subsection / string / integer entry; NULL or -ENOENT when absent
 * or of another type. */
const struct lvm_cfg *lvm_cfg_section(const struct lvm_cfg *sec,
				      const char *key);
const char *lvm_cfg_str(const struct lvm_cfg *sec, const char *key);
int lvm_cfg_int(const struct lvm_cfg *sec, const char *key, int64_t *out);
/* Non-zero when the array entry key holds the string word. */
int lvm_cfg_has_flag(const struct lvm_cfg *sec, const char *key,
		     const char *word);

#endif
