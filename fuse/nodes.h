/* The node table of the mount's file trees.  FUSE names every inode by a
 * 64-bit node id the file system hands out; a file in a volume's tree is
 * (volume, fs inode), an NTFS alternate data stream (volume, fs inode,
 * stream name).  The table maps both ways.
 *
 * Ids come from a counter and are never reused, so no generation number is
 * needed.  Every node counts the kernel's lookups (lookup and readdirplus
 * replies) and is dropped when forget brings the count to 0: the table
 * holds exactly the inodes the kernel caches, which the kernel trims under
 * memory pressure, so `find` over millions of files costs what the kernel
 * keeps (about 100 bytes a node here against ~1 KiB for its inode), not one
 * entry per file ever seen. */
#ifndef VU_FUSE_NODES_H
#define VU_FUSE_NODES_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* FUSE names are at most 1024 bytes, so is a stream name. */
#define NODE_STREAM_MAX 1024

struct fnode;

struct nodes {
	pthread_mutex_t lock;
	struct fnode **by_id, **by_key; /* chained hash tables */
	size_t mask;			/* buckets - 1 (a power of two) */
	size_t count;
	uint64_t next;			/* the next id handed out */
};

/* What an id stands for, copied out of the table. */
struct node_info {
	uint32_t vol;
	uint64_t fsino;
	uint64_t size;			/* of a stream */
	char stream[NODE_STREAM_MAX];	/* "" for the file itself */
};

/* Ids start at first (those below are the mount's fixed inodes). */
int nodes_init(struct nodes *t, uint64_t first);
void nodes_free(struct nodes *t);
/* Find or add the node for (vol, fsino, stream) and count one lookup.
 * stream NULL or "" is the file itself; size is a stream's size.  0 and
 * *id, or -ENOMEM (-ENAMETOOLONG for a stream name too long). */
int nodes_ref(struct nodes *t, uint32_t vol, uint64_t fsino,
	      const char *stream, uint64_t size, uint64_t *id);
/* The kernel forgets n lookups of id; the node goes at 0. */
void nodes_forget(struct nodes *t, uint64_t id, uint64_t n);
/* 0, or -ENOENT for an id the table does not hold. */
int nodes_get(struct nodes *t, uint64_t id, struct node_info *out);
size_t nodes_count(struct nodes *t);

#endif
