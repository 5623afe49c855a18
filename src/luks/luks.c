/* LUKS header loading and unlocking through libcryptsetup, without
 * dm-crypt: the header area is copied into a memfd that libcryptsetup
 * opens as /proc/self/fd/N, so nothing needs root and nothing is written
 * to the image (libcryptsetup's header repair would only touch the copy).
 * libcryptsetup's log goes into ours at debug level, its errors into the
 * message of the failing call. */
#include "luks/luks.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libcryptsetup.h>

#include "core/bytes.h"
#include "core/error.h"
#include "core/busy.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "luks/luks_format.h"
#include "luks/luks_int.h"
#include "luks/luks_priv.h"

#define LUKS_VK_MAX 256

/* ---- libcryptsetup's log into ours ---- */

static void cs_log(int level, const char *msg, void *usrptr)
{
	struct vu_luks *l = usrptr;
	size_t n = strlen(msg);

	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	if (l && level == CRYPT_LOG_ERROR && !l->cs_error[0])
		snprintf(l->cs_error, sizeof(l->cs_error), "%.*s", (int)n,
			 msg);
	vu_log(VU_LOG_DEBUG, "libcryptsetup: %.*s", (int)n, msg);
}

/* ---- header area size ---- */

uint64_t luks1_header_size(const uint8_t *h, size_t len)
{
	uint64_t end, key_bytes;

	if (len < LUKS1_HDR_SIZE || memcmp(h, LUKS_MAGIC, LUKS_MAGIC_LEN) ||
	    vu_be16(h + LUKS_VERSION) != 1)
		return 0;
	end = (uint64_t)vu_be32(h + LUKS1_PAYLOAD_OFFSET) * LUKS_SECTOR;
	key_bytes = vu_be32(h + LUKS1_KEY_BYTES);
	for (int i = 0; i < LUKS1_NUM_KEYSLOTS; i++) {
		const uint8_t *ks = h + LUKS1_KEYSLOTS + LUKS1_KEYSLOT_SIZE * i;
		uint64_t off = (uint64_t)vu_be32(ks + LUKS1_KS_OFFSET) *
			       LUKS_SECTOR;
		uint64_t stripes = vu_be32(ks + LUKS1_KS_STRIPES);
		uint64_t e = off + ((key_bytes * stripes + LUKS_SECTOR - 1) /
				    LUKS_SECTOR) * LUKS_SECTOR;

		if (e > end && e <= LUKS_HDR_CAP)
			end = e;
	}
	return end ? end : LUKS1_HDR_SIZE;
}

/* A LUKS2 binary header + JSON area at off: 0 and its hdr_size and
 * keyslots_size when its magic, checksum and JSON are good. */
static int luks2_check_hdr(struct vu_blk *src, uint64_t off, int primary,
			   uint64_t *hdr_size, uint64_t *ks_size)
{
	uint8_t bin[LUKS2_BIN_SIZE], sum[32];
	uint8_t *buf = NULL;
	uint64_t hs;
	json_object *root = NULL, *config, *v;
	int r = -EUCLEAN;

	if (off + sizeof(bin) > src->size ||
	    vu_blk_read(src, bin, sizeof(bin), off) < 0)
		return -EIO;
	if (memcmp(bin, primary ? LUKS_MAGIC : LUKS2_MAGIC2, LUKS_MAGIC_LEN) ||
	    vu_be16(bin + LUKS_VERSION) != 2)
		return -EUCLEAN;
	hs = vu_be64(bin + LUKS2_HDR_SIZE);
	if (hs < LUKS2_HDR_SIZE_MIN || hs > LUKS2_HDR_SIZE_MAX ||
	    !vu_is_pow2(hs) || vu_be64(bin + LUKS2_HDR_OFFSET) != off ||
	    off + hs > src->size)
		return -EUCLEAN;
	buf = malloc(hs + 1);
	if (!buf)
		return -ENOMEM;
	if (vu_blk_read(src, buf, hs, off) < 0) {
		r = -EIO;
		goto out;
	}
	if (strncmp((const char *)buf + LUKS2_CSUM_ALG, "sha256",
		    LUKS2_CSUM_ALG_LEN) == 0) {
		memset(buf + LUKS2_CSUM, 0, LUKS2_CSUM_LEN);
		if (vu_sha256(buf, hs, sum) < 0 ||
		    memcmp(sum, bin + LUKS2_CSUM, sizeof(sum)))
			goto out;
	}
	buf[hs] = '\0';
	root = json_tokener_parse((const char *)buf + LUKS2_BIN_SIZE);
	if (!root || !json_object_object_get_ex(root, "config", &config) ||
	    !json_object_object_get_ex(config, "keyslots_size", &v))
		goto out;
	*ks_size = strtoull(json_object_get_string(v), NULL, 10);
	*hdr_size = hs;
	r = 0;
out:
	json_object_put(root);
	free(buf);
	return r;
}

/* How many bytes of src make the header area; sets primary_damaged. */
static int header_area_size(struct vu_luks *l, struct vu_blk *src,
			    uint64_t *size)
{
	uint8_t h[LUKS1_HDR_SIZE];
	uint64_t hs = 0, ks = 0, n;
	int r;

	if (src->size < sizeof(h))
		return vu_blk_fail(src, -EUCLEAN, "luks: header truncated: "
				   "%" PRIu64 " bytes", src->size);
	r = vu_blk_read(src, h, sizeof(h), 0);
	if (r < 0)
		return r;
	if (!memcmp(h, LUKS_MAGIC, LUKS_MAGIC_LEN) &&
	    vu_be16(h + LUKS_VERSION) == 1) {
		n = luks1_header_size(h, sizeof(h));
		if (n > LUKS_HDR_CAP)
			n = LUKS_HDR_CAP;
		if (n > src->size)
			return vu_blk_fail(src, -EUCLEAN, "luks: header "
					   "truncated: %" PRIu64 " bytes, the "
					   "LUKS1 header area needs %" PRIu64,
					   src->size, n);
		*size = n;
		return 0;
	}
	r = luks2_check_hdr(src, 0, 1, &hs, &ks);
	if (r == -ENOMEM || r == -EIO)
		return r;
	if (r < 0) {
		l->info.primary_damaged = 1;
		for (uint64_t off = LUKS2_HDR_SIZE_MIN;
		     off <= LUKS2_HDR_SIZE_MAX; off <<= 1) {
			r = luks2_check_hdr(src, off, 0, &hs, &ks);
			if (r == 0 || r == -ENOMEM)
				break;
		}
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			if (memcmp(h, LUKS_MAGIC, LUKS_MAGIC_LEN))
				return vu_blk_fail(src, -EUCLEAN, "luks: no "
						   "LUKS header (no valid "
						   "primary or secondary "
						   "header)");
			return vu_blk_fail(src, -EUCLEAN, "luks: both LUKS2 "
					   "headers are damaged or truncated "
					   "(%" PRIu64 " bytes)", src->size);
		}
	}
	n = 2 * hs + ks;
	if (n > LUKS_HDR_CAP)
		n = LUKS_HDR_CAP;
	if (n > src->size)
		return vu_blk_fail(src, -EUCLEAN, "luks: header truncated: "
				   "%" PRIu64 " bytes, the LUKS2 header area "
				   "needs %" PRIu64, src->size, n);
	*size = n;
	return 0;
}

static int copy_to_memfd(struct vu_blk *src, uint64_t size, int *fd_out)
{
	size_t chunk = 1u << 20;
	uint8_t *buf = malloc(chunk);
	int fd, r = 0;

	*fd_out = -1;
	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	fd = memfd_create("vhdunlock-luks-header", MFD_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return vu_fail(-errno, "luks: memfd_create: %s",
			       strerror(errno));
	}
	for (uint64_t off = 0; off < size && r == 0; off += chunk) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;

		r = vu_blk_read(src, buf, n, off);
		if (r == 0 && pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			r = vu_fail(-EIO, "luks: writing the header copy: %s",
				    strerror(errno));
	}
	free(buf);
	if (r < 0) {
		close(fd);
		return r;
	}
	*fd_out = fd;
	return 0;
}

/* ---- info ---- */

static const char *reenc_name(enum vu_luks_reencrypt s)
{
	static const char *const names[] = { "none", "clean", "crash",
					     "invalid" };

	return (unsigned)s < 4 ? names[s] : "invalid";
}

static void fill_info(struct vu_luks *l)
{
	struct vu_luks_info *in = &l->info;
	struct crypt_device *cd = l->cd;
	const char *s;
	int max;

	in->version = strcmp(crypt_get_type(cd), CRYPT_LUKS1) ? 2 : 1;
	snprintf(in->cipher, sizeof(in->cipher), "%s",
		 (s = crypt_get_cipher(cd)) ? s : "");
	snprintf(in->mode, sizeof(in->mode), "%s",
		 (s = crypt_get_cipher_mode(cd)) ? s : "");
	in->key_bits = (unsigned)crypt_get_volume_key_size(cd) * 8;
	in->sector_size = (uint32_t)crypt_get_sector_size(cd);
	if (!in->sector_size)
		in->sector_size = 512;
	snprintf(in->uuid, sizeof(in->uuid), "%s",
		 (s = crypt_get_uuid(cd)) ? s : "");
	if (in->version == 2)
		snprintf(in->label, sizeof(in->label), "%s",
			 (s = crypt_get_label(cd)) ? s : "");
	in->data_offset = crypt_get_data_offset(cd) * 512;
	in->detached = l->hdr != NULL;
	max = crypt_keyslot_max(in->version == 1 ? CRYPT_LUKS1 : CRYPT_LUKS2);
	for (int i = 0; i < max && i < VU_LUKS_MAX_KEYSLOTS; i++) {
		crypt_keyslot_info st = crypt_keyslot_status(cd, i);
		struct vu_luks_keyslot *k = &in->keyslots[in->nkeyslots];
		struct crypt_pbkdf_type pb;

		if (st != CRYPT_SLOT_ACTIVE && st != CRYPT_SLOT_ACTIVE_LAST &&
		    st != CRYPT_SLOT_UNBOUND)
			continue;
		memset(k, 0, sizeof(*k));
		k->index = i;
		k->active = 1;
		k->unbound = st == CRYPT_SLOT_UNBOUND;
		if (crypt_keyslot_get_pbkdf(cd, i, &pb) == 0) {
			snprintf(k->pbkdf, sizeof(k->pbkdf), "%s",
				 pb.type ? pb.type : "");
			if (pb.type && !strcmp(pb.type, CRYPT_KDF_PBKDF2))
				snprintf(k->hash, sizeof(k->hash), "%s",
					 pb.hash ? pb.hash : "");
			k->iterations = pb.iterations;
			k->memory_kb = pb.max_memory_kb;
			k->threads = pb.parallel_threads;
		}
		in->nkeyslots++;
	}
	if (in->version == 2) {
		struct crypt_params_reencrypt p;

		for (int i = 0; i < 32; i++) {
			crypt_token_info t = crypt_token_status(cd, i, NULL);

			if (t != CRYPT_TOKEN_INVALID &&
			    t != CRYPT_TOKEN_INACTIVE)
				in->ntokens++;
		}
		memset(&p, 0, sizeof(p));
		switch (crypt_reencrypt_status(cd, &p)) {
		case CRYPT_REENCRYPT_NONE:
			in->reencrypt = VU_LUKS_REENC_NONE;
			break;
		case CRYPT_REENCRYPT_CLEAN:
			in->reencrypt = VU_LUKS_REENC_CLEAN;
			break;
		case CRYPT_REENCRYPT_CRASH:
			in->reencrypt = VU_LUKS_REENC_CRASH;
			break;
		default:
			in->reencrypt = VU_LUKS_REENC_INVALID;
			break;
		}
	}
	in->reencrypt_name = reenc_name(in->reencrypt);
}

/* Where each data segment of l lies on vol (the segments of a LUKS2
 * volume may end at the device's end: "dynamic"). */
static int map_segments(struct vu_luks *l, struct vu_blk *vol)
{
	const struct vu_blk *src = l->hdr ? l->hdr : vol;
	int r;

	if (l->info.version == 2) {
		r = luks_segments_parse(l->json, vol->size, l->seg,
					LUKS_MAX_SEGS, &l->nseg);
		if (r < 0)
			return vu_blk_fail(src, r, "luks: bad segments");
		l->info.nsegments = l->nseg;
	} else {
		uint64_t off = l->info.data_offset, end = vol->size;

		if (off > end)
			return vu_blk_fail(vol, -EUCLEAN, "luks: data offset %"
					   PRIu64 " beyond the end of the "
					   "volume (%" PRIu64 " bytes)", off,
					   end);
		end -= off;
		end -= end % 512;
		l->seg[0] = (struct luks_seg){ .start = 0, .end = end,
					       .phys = off, .crypt = 1,
					       .digest = 0,
					       .sector_size = 512 };
		snprintf(l->seg[0].encryption, sizeof(l->seg[0].encryption),
			 "%s-%s", l->info.cipher, l->info.mode);
		l->nseg = 1;
		l->info.nsegments = 1;
	}
	return 0;
}

int vu_luks_set_data(struct vu_luks *l, struct vu_blk *vol)
{
	int r;

	if (!l->hdr)
		return vu_blk_fail(l->vol, -EINVAL, "luks: the header is "
				   "inline; its data cannot move");
	r = map_segments(l, vol);
	if (r < 0)
		return r;
	vu_blk_unref(l->vol);
	l->vol = vu_blk_ref(vol);
	return 0;
}

/* ---- open/close ---- */

int vu_luks_open(struct vu_blk *vol, struct vu_blk *detached_header,
		 struct vu_luks **out)
{
	struct vu_blk *src = detached_header ? detached_header : vol;
	struct vu_luks *l;
	char path[64];
	const char *json = NULL;
	uint64_t size = 0;
	int r;

	*out = NULL;
	if (!vol)
		return vu_fail(-EINVAL, "luks: no volume");
	l = calloc(1, sizeof(*l));
	if (!l)
		return vu_fail(-ENOMEM, "out of memory");
	l->memfd = -1;
	l->unlocked_by = -1;
	l->vol = vu_blk_ref(vol);
	if (detached_header)
		l->hdr = vu_blk_ref(detached_header);

	r = header_area_size(l, src, &size);
	if (r < 0)
		goto fail;
	l->info.header_size = size;
	r = copy_to_memfd(src, size, &l->memfd);
	if (r < 0)
		goto fail;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", l->memfd);
	crypt_set_log_callback(NULL, cs_log, NULL);
	(void)crypt_metadata_locking(NULL, 0);
	r = crypt_init(&l->cd, path);
	if (r < 0) {
		l->cd = NULL;
		r = vu_blk_fail(src, r == -ENOMEM ? -ENOMEM : -EIO,
				"luks: cannot open the header copy (%d)", r);
		goto fail;
	}
	crypt_set_log_callback(l->cd, cs_log, l);
	r = crypt_load(l->cd, CRYPT_LUKS, NULL);
	if (r < 0) {
		r = vu_blk_fail(src, r == -ENOMEM ? -ENOMEM : -EUCLEAN,
				"luks: cannot load the header: %s",
				l->cs_error[0] ? l->cs_error
					       : "not a valid LUKS header");
		goto fail;
	}
	fill_info(l);
	if (l->info.version == 2 && l->info.primary_damaged)
		vu_log(VU_LOG_WARN, "%s: luks: primary LUKS2 header is "
		       "damaged, using the secondary", src->desc);
	if (l->info.version == 2) {
		if (crypt_dump_json(l->cd, &json, 0) < 0 || !json) {
			r = vu_blk_fail(src, -EUCLEAN, "luks: cannot read the "
					"LUKS2 metadata: %s", l->cs_error);
			goto fail;
		}
		l->json = strdup(json);
		if (!l->json) {
			r = vu_fail(-ENOMEM, "out of memory");
			goto fail;
		}
	}
	r = map_segments(l, vol);
	if (r < 0)
		goto fail;
	if (l->info.reencrypt != VU_LUKS_REENC_NONE)
		vu_log(VU_LOG_WARN, "%s: luks: reencryption in progress "
		       "(%s): %zu segments", src->desc,
		       l->info.reencrypt_name, l->nseg);
	*out = l;
	return 0;
fail:
	vu_luks_close(l);
	return r;
}

const struct vu_luks_info *vu_luks_info(const struct vu_luks *l)
{
	return &l->info;
}

size_t vu_luks_segments(const struct vu_luks *l, struct vu_luks_segment *out,
			size_t max)
{
	for (size_t i = 0; i < l->nseg && i < max; i++)
		out[i] = (struct vu_luks_segment){
			.offset = l->seg[i].phys,
			.length = l->seg[i].end - l->seg[i].start,
			.encrypted = l->seg[i].crypt,
		};
	return l->nseg;
}

void vu_luks_close(struct vu_luks *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nkeys; i++)
		vu_secret_free(l->keys[i].key, LUKS_VK_MAX);
	if (l->cd)
		crypt_free(l->cd);
	if (l->memfd >= 0)
		close(l->memfd);
	free(l->json);
	vu_blk_unref(l->hdr);
	vu_blk_unref(l->vol);
	free(l);
}

/* ---- unlock ---- */

static int have_key(const struct vu_luks *l, int digest)
{
	for (size_t i = 0; i < l->nkeys; i++)
		if (l->keys[i].digest == digest)
			return 1;
	return 0;
}

/* Try one keyslot (or CRYPT_ANY_SLOT); 1 when a new key was stored. */
static int try_slot(struct vu_luks *l, int slot, const uint8_t *pass,
		    size_t len)
{
	uint8_t *vk = vu_secret_alloc(LUKS_VK_MAX);
	size_t vk_size = LUKS_VK_MAX;
	int r, digest;

	if (!vk)
		return vu_fail(-ENOMEM, "out of memory");
	l->cs_error[0] = '\0';
	r = crypt_volume_key_get(l->cd, slot, (char *)vk, &vk_size,
				 (const char *)pass, len);
	if (r < 0) {
		vu_secret_free(vk, LUKS_VK_MAX);
		if (r == -ENOMEM)
			return vu_fail(-ENOMEM, "out of memory");
		vu_log(VU_LOG_DEBUG, "luks: keyslot %d: %d %s", slot, r,
		       l->cs_error);
		return 0;
	}
	digest = l->info.version == 1 ? 0 : luks_keyslot_digest(l->json, r);
	if (l->unlocked_by < 0)
		l->unlocked_by = r;
	if (have_key(l, digest) || l->nkeys == LUKS_MAX_KEYS) {
		vu_secret_free(vk, LUKS_VK_MAX);
		return 0;
	}
	l->keys[l->nkeys].digest = digest;
	l->keys[l->nkeys].key = vk; /* transferred */
	l->keys[l->nkeys].len = vk_size;
	l->nkeys++;
	vu_log(VU_LOG_DEBUG, "luks: keyslot %d opens digest %d", r, digest);
	return 1;
}

/* Tell the front end a key derivation runs: with Argon2 at ADE's default
 * cost (1 GiB, 4 threads) each keyslot tried takes seconds. */
static void busy_begin(const struct vu_luks *l, const char *src)
{
	const struct vu_luks_keyslot *k = NULL;

	for (size_t i = 0; i < l->info.nkeyslots && !k; i++)
		if (!strncmp(l->info.keyslots[i].pbkdf, "argon2", 6))
			k = &l->info.keyslots[i];
	if (k)
		vu_busy_begin("%s: deriving the key (%s, %u MiB, %u threads)",
			      src, k->pbkdf, k->memory_kb / 1024, k->threads);
	else
		vu_busy_begin("%s: deriving the key", src);
}

static int unlock(struct vu_luks *l, const uint8_t *pass, size_t len,
		  const char *what)
{
	const char *src;
	int r, missing = -1;

	if (!l || (!pass && len))
		return vu_fail(-EINVAL, "luks: no key");
	if (vu_luks_is_unlocked(l))
		return 0;
	src = (l->hdr ? l->hdr : l->vol)->desc;
	busy_begin(l, src);
	r = try_slot(l, CRYPT_ANY_SLOT, pass, len);
	vu_busy_end();
	if (r < 0)
		return r;
	/* a reencryption needs the key of every crypt segment */
	for (size_t s = 0; s < l->nseg; s++) {
		int d = l->seg[s].digest;

		if (!l->seg[s].crypt || have_key(l, d))
			continue;
		for (size_t i = 0; i < l->info.nkeyslots && !have_key(l, d);
		     i++) {
			int ks = l->info.keyslots[i].index;

			if (luks_keyslot_digest(l->json, ks) != d)
				continue;
			busy_begin(l, src);
			r = try_slot(l, ks, pass, len);
			vu_busy_end();
			if (r < 0)
				return r;
		}
		if (!have_key(l, d))
			missing = d;
	}
	if (l->unlocked_by < 0)
		r = vu_fail(-EPERM, "%s: luks: no keyslot opens with this %s",
			    src, what);
	else if (missing >= 0)
		r = vu_fail(-EPERM, "%s: luks: the %s opens keyslot %d but "
			    "not the key of digest %d the reencryption needs",
			    src, what, l->unlocked_by, missing);
	else
		r = 0;
	if (r < 0) {
		for (size_t i = 0; i < l->nkeys; i++)
			vu_secret_free(l->keys[i].key, LUKS_VK_MAX);
		l->nkeys = 0;
		l->unlocked_by = -1;
		return r;
	}
	l->unlocked = 1;
	return 0;
}

int vu_luks_unlock_passphrase(struct vu_luks *l, const uint8_t *pass,
			      size_t len)
{
	return unlock(l, pass, len, "passphrase");
}

int vu_luks_unlock_keyfile(struct vu_luks *l, const uint8_t *data,
			   size_t len)
{
	return unlock(l, data, len, "key file");
}

int vu_luks_is_unlocked(const struct vu_luks *l)
{
	return l && l->unlocked;
}

int vu_luks_unlocked_by(const struct vu_luks *l)
{
	return l && l->unlocked ? l->unlocked_by : -1;
}
