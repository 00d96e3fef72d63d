/*
 * rc_index.h — a loaded index (index_load.c: open, validate, tables) and its stored text
 * (store.c: blocks, byte ranges, source windows of tokens): the interface the matcher, the
 * builder's compaction and the catalogue use. The format itself is rc_format.h.
 */
#ifndef RC_INDEX_H
#define RC_INDEX_H

#include "rc_format.h"

#include <zstd.h>

/* ==== a loaded index (index_load.c) ==== */

typedef struct rc_section {
    const uint8_t *data;
    uint64_t len;
} rc_section;

typedef struct rc_channel_info {
    unsigned kgram, window, bucket_bits;
    uint64_t npostings;
    const uint8_t *dir, *key, *pos; /* its posting sections */
} rc_channel_info;

struct recite_index {
    int fd;
    const uint8_t *map;
    size_t map_len;
    rc_section sec[RC_SEC_COUNT_];
    rc_channel_info ch[RC_CHANNELS];
    unsigned mode;
    uint64_t created;
    uint64_t nworks, nclusters, ntokens;
    uint64_t text_bytes; /* of the stored stream (token records if text-free) */
    uint64_t work_bytes; /* of the texts as indexed */
    bool text_free;
    bool cmi;     /* CMI was extracted at build time */
    bool has_key; /* text-free and opened with its key */
    rc_key key;
    uint64_t nblocks;
    uint64_t block_size;
    ZSTD_DDict *ddict;      /* NULL when the index has no dictionary */
    recite_index *licenses; /* DIR/licenses: the license texts, or NULL */
};

/* Cluster record i (i < nclusters). */
void rc_index_cluster(const recite_index *idx, uint32_t i, rc_cluster *out);

/* The cluster holding global token `gpos` (gpos < ntokens). */
uint32_t rc_index_cluster_of_token(const recite_index *idx, uint64_t gpos);

/* The cluster of work w (w < nworks). */
uint32_t rc_index_work_cluster(const recite_index *idx, uint32_t w);

/* The range [*first, *end) of postings in the bucket of fingerprint `h`; the caller compares
 * rc_posting_rem(h) with each posting's stored remainder. Returns the bucket size. */
static inline uint64_t rc_index_bucket(const rc_channel_info *ch, uint64_t h, uint64_t *first,
                                       uint64_t *end)
{
    uint64_t b = ch->bucket_bits ? h >> (64 - ch->bucket_bits) : 0;
    *first = rc_get_u32(ch->dir + 4 * b);
    *end = rc_get_u32(ch->dir + 4 * (b + 1));
    return *end - *first;
}

/* Bytes a cluster occupies in the stored stream: its text, or (text-free) its token records,
 * which run to the next cluster's offset. */
uint64_t rc_index_stored_len(const recite_index *idx, uint32_t cluster);

/* Checks the locator sections (locate.c): records within bounds, pages and chapters in order
 * inside their work, the line table consistent with the text blocks. */
int rc_index_validate_locators(const recite_index *idx, const char *path, recite_error *err);

/* Work w's locator record, as stored (for compaction, which carries it over): page starts,
 * chapters (RC_LOC_CHAPTER_SIZE bytes each: rc_get_u32 start, title and name via
 * rc_index_string) and member. Empty when the work has none. */
typedef struct rc_loc_record {
    uint32_t npages, nchapters;
    const uint8_t *pages, *chapters;
    const char *member;
} rc_loc_record;
void rc_index_loc_record(const recite_index *idx, uint32_t w, rc_loc_record *out);
/* The string at offset off of STRINGS, NULL for 0. */
const char *rc_index_string(const recite_index *idx, uint64_t off);

/* ==== reading stored text (store.c) ==== */

/* Per-thread reader state: a decompression context and a direct-mapped cache of decoded
 * blocks (slot = block mod size; slots are allocated on first use). Boilerplate makes the same
 * blocks come back check after check, so the cache pays for itself in a serving loop. */
#define RC_BLOCK_CACHE 2048 /* x 4 KiB = 8 MiB per reader at most */
typedef struct rc_store_reader {
    const recite_index *idx;
    ZSTD_DCtx *dctx;
    struct {
        uint64_t block; /* block number + 1; 0 = empty slot */
        uint8_t *data;
        size_t len;
    } cache[RC_BLOCK_CACHE];
    uint64_t hits, misses;
} rc_store_reader;

int rc_store_reader_init(rc_store_reader *r, const recite_index *idx);
void rc_store_reader_free(rc_store_reader *r);

/* Copies global text bytes [start, end) into out (which has room for end - start bytes). */
int rc_store_read(rc_store_reader *r, uint64_t start, uint64_t end, uint8_t *out,
                  recite_error *err);

/* Tokens [t_from, t_to) of a cluster (local token numbers, clipped to the cluster), with byte
 * offsets local to the cluster's text. The bytes read are kept in `bytes`, starting at local
 * offset `bytes_base`, so callers can compare and quote them. A window can grow to the right
 * without tokenizing again what it holds. */
typedef struct rc_source_window {
    uint32_t cluster;
    rc_cluster info;
    uint64_t t_from, t_to; /* tokens held: [t_from, t_to) */
    RC_VEC(rc_token) toks;
    RC_VEC(rc_tokx) tokx; /* text-free: the extras of each token in toks */
    RC_VEC(uint8_t) bytes;
    uint64_t bytes_base; /* local byte offset of bytes.v[0] */
    rc_tok_state st;     /* where tokenizing continues, relative to bytes.v (text-free: st.pos
                            is where decoding continues, and prev_end the last token's end) */
    uint64_t prev_end;
    uint64_t next_tok; /* text-free: number of the next token to decode */
    uint64_t skip;     /* tokens still to drop before t_from (after a restart) */
    bool valid;
} rc_source_window;

/* Loads tokens [t_from, t_to) of `cluster`, restarting at the checkpoint before t_from. */
int rc_source_window_load(rc_store_reader *r, rc_tokenizer *tz, rc_source_window *sw,
                          uint32_t cluster, uint64_t t_from, uint64_t t_to, recite_error *err);
/* Extends a loaded window up to token t_to (clipped to the cluster). */
int rc_source_window_grow(rc_store_reader *r, rc_tokenizer *tz, rc_source_window *sw, uint64_t t_to,
                          recite_error *err);
void rc_source_window_free(rc_source_window *sw);

#endif /* RC_INDEX_H */
