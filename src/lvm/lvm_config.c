/* Parser for LVM2's text metadata (see lvm_config.h).  Recursive descent
 * with a depth limit; every allocation is bounded by the text's size. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lvm/lvm_config.h"

struct lex {
	const char *p, *end;
	unsigned line;
};

static int lex_fail(const struct lex *l, const char *what)
{
	return vu_fail(-EUCLEAN, "lvm metadata: line %u: %s", l->line, what);
}

static void skip_space(struct lex *l)
{
	while (l->p < l->end) {
		char c = *l->p;

		if (c == '\n') {
			l->line++;
			l->p++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
			   c == '\v') {
			l->p++;
		} else if (c == '#') {
			while (l->p < l->end && *l->p != '\n')
				l->p++;
		} else {
			break;
		}
	}
}

static int is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+' ||
	       c == '.' || c == '/' || c == ':' || c == '@' || c == '!' ||
	       c == '*' || c == '%' || c == '^' || c == '&' || c == '~' ||
	       c == '?';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A quoted string ("..." with \ escapes, or '...' verbatim); l->p is at
 * the opening quote. */
static int lex_string(struct lex *l, char **out)
{
	char q = *l->p++;
	const char *s = l->p;
	char *buf, *w;

	*out = NULL;
	while (l->p < l->end && *l->p != q) {
		if (*l->p == '\n')
			return lex_fail(l, "newline in a string");
		if (q == '"' && *l->p == '\\') {
			if (++l->p >= l->end)
				break;
			if (*l->p == '\n')
				return lex_fail(l, "newline in a string");
		}
		l->p++;
	}
	if (l->p >= l->end)
		return lex_fail(l, "unterminated string");
	buf = malloc((size_t)(l->p - s) + 1);
	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	for (w = buf; s < l->p; s++) {
		if (q == '"' && *s == '\\')
			s++;
		if (*s == '\0') {
			free(buf);
			return lex_fail(l, "NUL in a string");
		}
		*w++ = *s;
	}
	*w = '\0';
	l->p++; /* closing quote */
	*out = buf;
	return 0;
}

static int lex_ident(struct lex *l, char **out)
{
	const char *s = l->p;

	*out = NULL;
	while (l->p < l->end && is_ident(*l->p))
		l->p++;
	if (l->p == s)
		return lex_fail(l, "expected a name");
	*out = strndup(s, (size_t)(l->p - s));
	return *out ? 0 : vu_fail(-ENOMEM, "out of memory");
}

static int lex_number(struct lex *l, struct lvm_value *v)
{
	const char *s = l->p;
	int neg = 0, flt = 0;
	uint64_t u = 0;

	if (*l->p == '-' || *l->p == '+')
		neg = *l->p++ == '-';
	if (l->p >= l->end || !is_digit(*l->p))
		return lex_fail(l, "malformed number");
	while (l->p < l->end && (is_digit(*l->p) || *l->p == '.')) {
		if (*l->p == '.') {
			if (flt)
				return lex_fail(l, "malformed number");
			flt = 1;
		} else if (!flt) {
			unsigned d = (unsigned)(*l->p - '0');

			if (u > (UINT64_MAX - d) / 10)
				return lex_fail(l, "number out of range");
			u = u * 10 + d;
		}
		l->p++;
	}
	if (l->p < l->end && is_ident(*l->p))
		return lex_fail(l, "malformed number");
	if (flt) {
		v->type = LVM_V_FLOAT;
		v->s = strndup(s, (size_t)(l->p - s));
		return v->s ? 0 : vu_fail(-ENOMEM, "out of memory");
	}
	if (u > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
		return lex_fail(l, "number out of range");
	v->type = LVM_V_INT;
	v->i = neg ? (u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u)
		   : (int64_t)u;
	return 0;
}

static void value_clear(struct lvm_value *v)
{
	for (size_t i = 0; i < v->n; i++)
		value_clear(&v->items[i]);
	free(v->items);
	free(v->s);
	memset(v, 0, sizeof(*v));
}

static int parse_scalar(struct lex *l, struct lvm_value *v)
{
	if (l->p >= l->end)
		return lex_fail(l, "expected a value, found the end");
	if (*l->p == '"' || *l->p == '\'') {
		v->type = LVM_V_STR;
		return lex_string(l, &v->s);
	}
	if (is_digit(*l->p) || *l->p == '-' || *l->p == '+')
		return lex_number(l, v);
	return lex_fail(l, "expected a string or a number");
}

static int parse_value(struct lex *l, struct lvm_value *v)
{
	size_t cap = 0;
	int r;

	skip_space(l);
	if (l->p >= l->end || *l->p != '[')
		return parse_scalar(l, v);
	l->p++;
	v->type = LVM_V_ARRAY;
	skip_space(l);
	if (l->p < l->end && *l->p == ']') {
		l->p++;
		return 0;
	}
	for (;;) {
		skip_space(l);
		if (v->n == cap) {
			size_t nc = cap ? cap * 2 : 4;
			struct lvm_value *n = realloc(v->items, nc * sizeof(*n));

			if (!n)
				return vu_fail(-ENOMEM, "out of memory");
			v->items = n;
			cap = nc;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		v->n++; /* counted first so that a failure frees it */
		r = parse_scalar(l, &v->items[v->n - 1]);
		if (r < 0)
			return r;
		skip_space(l);
		if (l->p >= l->end)
			return lex_fail(l, "unterminated array");
		if (*l->p == ']') {
			l->p++;
			return 0;
		}
		if (*l->p != ',')
			return lex_fail(l, "expected ',' or ']' in an array");
		l->p++;
	}
}

/* Entries up to '}' (depth > 0) or the end of the text (depth 0). */
static int parse_entries(struct lex *l, struct lvm_cfg *sec, unsigned depth)
{
	struct lvm_cfg **tail = &sec->child;
	int r;

	for (;;) {
		struct lvm_cfg *c;

		skip_space(l);
		if (l->p >= l->end) {
			if (depth)
				return lex_fail(l, "unterminated section");
			return 0;
		}
		if (*l->p == '}') {
			if (!depth)
				return lex_fail(l, "unbalanced '}'");
			l->p++;
			return 0;
		}
		c = calloc(1, sizeof(*c));
		if (!c)
			return vu_fail(-ENOMEM, "out of memory");
		*tail = c; /* transferred: freed with sec */
		tail = &c->next;
		r = *l->p == '"' ? lex_string(l, &c->key) : lex_ident(l, &c->key);
		if (r < 0)
			return r;
		skip_space(l);
		if (l->p >= l->end)
			return lex_fail(l, "expected '=' or '{', found the end");
		if (*l->p == '{') {
			l->p++;
			if (depth + 1 > LVM_CFG_MAX_DEPTH)
				return lex_fail(l, "sections nested too deeply");
			c->section = 1;
			r = parse_entries(l, c, depth + 1);
		} else if (*l->p == '=') {
			l->p++;
			r = parse_value(l, &c->v);
		} else {
			r = lex_fail(l, "expected '=' or '{'");
		}
		if (r < 0)
			return r;
	}
}

int lvm_cfg_parse(const char *text, size_t len, struct lvm_cfg **out)
{
	struct lex l = { text, text + len, 1 };
	const char *nul = memchr(text, '\0', len);
	struct lvm_cfg *root;
	int r;

	*out = NULL;
	if (nul)
		l.end = nul;
	root = calloc(1, sizeof(*root));
	if (!root)
		return vu_fail(-ENOMEM, "out of memory");
	root->section = 1;
	r = parse_entries(&l, root, 0);
	if (r < 0) {
		lvm_cfg_free(root);
		return r;
	}
	*out = root;
	return 0;
}

void lvm_cfg_free(struct lvm_cfg *c)
{
	while (c) {
		struct lvm_cfg *next = c->next;

		lvm_cfg_free(c->child); /* depth is bounded by the parser */
		value_clear(&c->v);
		free(c->key);
		free(c);
		c = next;
	}
}

const struct lvm_cfg *lvm_cfg_get(const struct lvm_cfg *sec, const char *key)
{
	if (!sec || !sec->section)
		return NULL;
	for (const struct lvm_cfg *c = sec->child; c; c = c->next)
		if (c->key && strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

const struct lvm_cfg *lvm_cfg_section(const struct lvm_cfg *sec,
				      const char *key)
{
	const struct lvm_cfg *c = lvm_cfg_get(sec, key);

	return c && c->section ? c : NULL;
}

const char *lvm_cfg_str(const struct lvm_cfg *sec, const char *key)
{
	const struct lvm_cfg *c = lvm_cfg_get(sec, key);

	return c && !c->section && c->v.type == LVM_V_STR ? c->v.s : NULL;
}

int lvm_cfg_int(const struct lvm_cfg *sec, const char *key, int64_t *out)
{
	const struct lvm_cfg *c = lvm_cfg_get(sec, key);

	if (!c || c->section || c->v.type != LVM_V_INT)
		return -ENOENT;
	*out = c->v.i;
	return 0;
}

int lvm_cfg_has_flag(const struct lvm_cfg *sec, const char *key,
		     const char *word)
{
	const struct lvm_cfg *c = lvm_cfg_get(sec, key);

	if (!c || c->section || c->v.type != LVM_V_ARRAY)
		return 0;
	for (size_t i = 0; i < c->v.n; i++)
		if (c->v.items[i].type == LVM_V_STR &&
		    strcmp(c->v.items[i].s, word) == 0)
			return 1;
	return 0;
}
