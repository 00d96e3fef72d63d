/*
 * rc_index.h — a loaded index (index_load.c: open, validate, tables) and its stored text
 * (store.c: blocks, byte ranges, source windows of tokens): the interface the matcher, the
 * builder's compaction and the catalogue use. The format itself is rc_format.h.
 */
#ifndef RC_INDEX_H
#define RC_INDEX_H

#include "rc_format.h"

#include <stdatomic.h>
#include <zstd.h>

/* ==== a loaded index (index_load.c) ==== */

typedef struct rc_section {
    const uint8_t *data;
    uint64_t len;
} rc_section;

typedef struct rc_channel_info {
    unsigned kgram, window, bucket_bits;
    unsigned key_bits; /* where the key's 14 bits are taken: bucket_bits, or more in a shard */
    uint64_t npostings;
    const uint8_t *dir, *key, *pos; /* its posting sections */
    const uint8_t *xbits;           /* per posting, bits [bucket_bits, key_bits); NULL: none */
} rc_channel_info;

/* A table of postings a lookup scans: an index's own, or a shard's, whose positions are local
 * to the shard (the library's token number is token0 + the position). */
typedef struct rc_posting_table {
    const recite_index *idx; /* whose pages the table's bytes are */
    const rc_channel_info *info;
    uint64_t token0;
    uint32_t shard;
} rc_posting_table;

/* A shard of a sharded index (index_shards.c): an index of its own, whose clusters, tokens and
 * stored bytes are a contiguous range of the library's, and whose works are listed in the
 * head's SHARD_WORKS from slot work0 on (and their members in the head's MEMBERS). */
typedef struct rc_shard {
    recite_index *idx;
    uint64_t cluster0, token0, text0, work0;
    uint64_t view0; /* its views are the library's views view0... (numbered nclusters + view) */
} rc_shard;

/* A blocked Bloom filter of a channel's posting keys (index_filter.c): 2^bits blocks of 512 bits
 * (a cache line); a key sets 4 bits of its block. */
typedef struct rc_kfilter {
    unsigned bits;
    uint64_t *words;
} rc_kfilter;

/* Store readers an index keeps for reuse (a reader is ~200 KB with a decompression context, and
 * its caches up to 27 MiB): as many as threads use the index at once, up to this. */
#define RC_SPARE_READERS 64

struct recite_index {
    int fd;
    const uint8_t *map;
    size_t map_len;
    rc_section sec[RC_SEC_COUNT_];
    uint64_t sec_sum[RC_SEC_COUNT_]; /* the checksums of the section table */
    rc_channel_info ch[RC_CHANNELS];
    unsigned mode;
    uint64_t created;
    uint64_t nworks, nclusters, ntokens;
    uint64_t nviews;       /* word views of code clusters (index_views.c) */
    unsigned common_texts; /* families holding a fingerprint for it to be common (DF class 3) */
    uint64_t text_bytes;   /* of the stored stream (token records if text-free) */
    uint64_t work_bytes;   /* of the texts as indexed */
    bool text_free;
    bool cmi;     /* CMI was extracted at build time */
    bool has_key; /* text-free and opened with its key */
    rc_key key;
    uint64_t nblocks;
    uint64_t block_size;
    /* The text dictionary's decompression tables, made on first use (rc_index_ddict): NULL
     * before, and always when the index has no dictionary. */
    _Atomic(ZSTD_DDict *) ddict;
    /* Pages checked against PAGE_SUMS so far: one bit per page, set by whichever thread checks
     * it first (the only state of an open index that changes, and only from 0 to 1). */
    _Atomic(uint64_t) *page_ok;
    uint64_t npages, pages_end; /* pages cover file bytes [RC_DATA_OFFSET, pages_end) */
    const uint8_t *page_sums;
    recite_index *licenses; /* DIR/licenses: the license texts, or NULL */
    /* Lookups scan these tables, per channel: the index's own, or its shards' in order. */
    rc_posting_table *tables[RC_CHANNELS];
    size_t ntables;
    /* A sharded index (RC_FLAG_SHARDED): this is its head, which numbers works, clusters and
     * tokens as one index of the whole library would, and these are its shards (in the order
     * of that numbering). 0 / NULL for an ordinary index. */
    uint32_t nshards;
    rc_shard *shards;
    /* Opened in part (recite_index_open_part): only the shards s % part_of == part_no are open
     * (shards[s].idx NULL for the others); the works of the others that a distributed check
     * brought, for its report (index_remote.c). */
    bool part;
    unsigned part_no, part_of;
    struct rc_remote *remote;
    /* Store readers not in use (rc_store_reader_get, _put): a matcher takes one for a check
     * and gives it back when the check is complete, a one-off read (a report's locators, a
     * work's text) takes one for the read, so the report of a check reads through the reader
     * that check warmed. Taken and given back atomically, any thread; freed at close. Their
     * caches only hold what the immutable index says, so which one a reader gets changes no
     * result. */
    _Atomic(struct rc_store_reader *) spare_readers[RC_SPARE_READERS];
    /* The filters of the posting keys, per channel (index_filter.c): made by one thread once
     * the channel has answered enough lookups, NULL until then (or for good if it could not
     * be made); they change no result. */
    _Atomic(rc_kfilter *) filter[RC_CHANNELS];
    _Atomic(uint64_t) filter_lookups[RC_CHANNELS];
    _Atomic(int) filter_state[RC_CHANNELS];
};

/* ==== filters of the posting keys (index_filter.c) ==== */

/* Channel chn's filter after `lookups` more lookups of it (counted towards making it), or
 * NULL while it is not made; only for an index whose lookups scan its own keys (no shards, no
 * extra key bits). */
const rc_kfilter *rc_index_filter(const recite_index *idx, unsigned chn, uint64_t lookups);
/* Makes it now (recite_index_prepare, tests): RECITE_OK when it exists after. */
int rc_index_filter_make(const recite_index *idx, unsigned chn);
void rc_kfilter_free(rc_kfilter *f);

/* The checksum of the index file's header and section table (RC_H_CHECKSUM): through the
 * sections' checksums it covers every byte, so it names the index's contents (the catalogue
 * records the one it was made for). */
static inline uint64_t rc_index_header_sum(const recite_index *idx)
{
    return rc_get_u64(idx->map + RC_H_CHECKSUM);
}

/* The filter's hash of what a lookup compares: the bucket and the key's hash bits
 * (rc_posting_key(h, bucket_bits, 0, 0, 0), or a stored key & RC_KEY_HASH_MASK). Not the
 * bucket itself: winnowing keeps the smallest hashes, so the low buckets hold far more. */
static inline uint64_t rc_kfilter_hash(uint64_t bucket, uint32_t key_hash_bits)
{
    uint64_t x = (bucket << 16 | key_hash_bits) * 0xff51afd7ed558ccdULL;
    return x ^ x >> 32;
}

/* The block (one cache line) of filter hash g. */
static inline const uint64_t *rc_kfilter_block(const rc_kfilter *f, uint64_t g)
{
    return f->words + 8 * (f->bits ? g >> (64 - f->bits) : 0);
}

/* Its 4 bits in the block: 9-bit slices of a product, bit i of them in word RC_KFILTER_WORD
 * at RC_KFILTER_SHIFT (the filter is made and read by these alone). */
static inline uint64_t rc_kfilter_slices(uint64_t g)
{
    return (g * 0x9e3779b97f4a7c15ULL) >> 28;
}
#define RC_KFILTER_WORD(s, i) (((s) >> (9 * (i) + 6)) & 7)
#define RC_KFILTER_SHIFT(s, i) (((s) >> (9 * (i))) & 63)

/* False only when no posting has the key of filter hash g, whose block is w. */
static inline bool rc_kfilter_block_may(const uint64_t *w, uint64_t g)
{
    uint64_t s = rc_kfilter_slices(g);
    return (w[RC_KFILTER_WORD(s, 0)] >> RC_KFILTER_SHIFT(s, 0) &
            w[RC_KFILTER_WORD(s, 1)] >> RC_KFILTER_SHIFT(s, 1) &
            w[RC_KFILTER_WORD(s, 2)] >> RC_KFILTER_SHIFT(s, 2) &
            w[RC_KFILTER_WORD(s, 3)] >> RC_KFILTER_SHIFT(s, 3) & 1) != 0;
}

static inline bool rc_kfilter_may(const rc_kfilter *f, uint64_t g)
{
    return rc_kfilter_block_may(rc_kfilter_block(f, g), g);
}

/* Checks the pages holding p[0, len) (bytes of the mapped file) against their checksums, the
 * first time: RECITE_OK, or RECITE_EFORMAT when one does not match (err filled when not NULL).
 * Every read of a section goes through it before its bytes are trusted. */
int rc_index_touch_pages(const recite_index *idx, uint64_t first, uint64_t last, recite_error *err);

/* The decompression tables of the text dictionary (*out NULL when the index has none), made by
 * the first thread that decompresses a block: its pages are checked then, and a damaged
 * dictionary fails that read (RECITE_EFORMAT), as any damaged page does. Opening does not pay
 * for them (about 1 M instructions for a 256 KiB dictionary): a check that reads no stored
 * text never does. */
int rc_index_ddict(const recite_index *idx, const ZSTD_DDict **out, recite_error *err);
static inline int rc_index_touch(const recite_index *idx, const void *p, size_t len,
                                 recite_error *err)
{
    uint64_t off = (uint64_t)((const uint8_t *)p - idx->map);
    if (len == 0 || off >= idx->pages_end) /* PAGE_SUMS itself is checked at open */
        return RECITE_OK;
    uint64_t first = (off - RC_DATA_OFFSET) / RC_PAGE_SIZE;
    uint64_t last = (RC_MIN(off + len, idx->pages_end) - 1 - RC_DATA_OFFSET) / RC_PAGE_SIZE;
    if (RC_LIKELY(first == last &&
                  (atomic_load_explicit(&idx->page_ok[first >> 6], memory_order_acquire) >>
                   (first & 63)) &
                      1))
        return RECITE_OK;
    return rc_index_touch_pages(idx, first, last, err);
}

/* Cluster record i (i < nclusters), as stored, or for i = nclusters + v (v < nviews) view v as
 * a prose cluster (its works, family and length those of its code cluster): a cluster a check
 * reaches from a seed or a work is checked first (rc_index_cluster_check); afterwards its
 * record can be read unchecked. */
void rc_index_cluster(const recite_index *idx, uint32_t i, rc_cluster *out);

/* ==== word views of code clusters (index_views.c) ==== */

typedef struct rc_view {
    uint32_t cluster; /* the code cluster whose words these are */
    uint64_t text_offset, token_base, ntokens, checkpoint0;
} rc_view;

/* View record v, its pages checked; false when v >= nviews or they do not match. */
bool rc_index_view(const recite_index *idx, uint64_t v, rc_view *out);
/* The view of cluster `cluster`; UINT64_MAX when it has none. */
uint64_t rc_index_view_of(const recite_index *idx, uint32_t cluster);
/* The view holding global token gpos; UINT64_MAX when none does. */
uint64_t rc_index_view_of_token(const recite_index *idx, uint64_t gpos);

/* Cluster record i, checked: its text, tokens, checkpoints and members lie inside the index.
 * RECITE_EFORMAT ("corrupt index") otherwise. */
int rc_index_cluster_check(const recite_index *idx, uint32_t i, rc_cluster *out, recite_error *err);
bool rc_index_cluster_valid(const recite_index *idx, uint32_t i, const rc_cluster *cl);

/* The cluster (or view, numbered nclusters + v) holding global token `gpos` (gpos < ntokens);
 * UINT32_MAX when none does or the records read fail their checksums. */
uint32_t rc_index_cluster_of_token(const recite_index *idx, uint64_t gpos);

/* The binary CMI record of work w (w < nworks) in *rec, *len bytes (0: none). */
void rc_index_work_cmi(const recite_index *idx, uint32_t w, const uint8_t **rec, size_t *len);

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

/* Work number m of the MEMBERS section (works grouped by cluster; a sharded index's head holds
 * them in the library's numbering). The caller has checked the cluster the entry is of. */
static inline uint32_t rc_index_member(const recite_index *idx, uint64_t m)
{
    return rc_get_u32(idx->sec[RC_SEC_MEMBERS].data + 4 * m);
}

/* Bytes a cluster (or view) occupies in the stored stream: its text, or (text-free) its token
 * records, which run to its view's records, or to the next cluster's offset. */
uint64_t rc_index_stored_len(const recite_index *idx, uint32_t cluster);

/* Gives back the pages of the mapping that reads made resident (they are read again from the
 * file when touched): for whole-index passes (verification, compaction), so that an index
 * that is read whole does not stay in memory. Any thread, any time (index_verify.c). */
void rc_index_release_pages(const recite_index *idx);

/* Checks at open, in constant time, that the locator sections (locate.c) have the sizes the
 * works and text blocks ask for; each record is checked when it is read. */
int rc_index_validate_locators(const recite_index *idx, const char *path, recite_error *err);
/* Every work's locator record and the line table, for recite_index_verify (whose page checks
 * come first). */
int rc_index_verify_locators(const recite_index *idx, recite_error *err);

/* Work w's locator record, as stored (for compaction, which carries it over): page starts,
 * chapters (RC_LOC_CHAPTER_SIZE bytes each: rc_get_u32 start, title and name via
 * rc_index_string) and member. Empty when the work has none. */
typedef struct rc_loc_record {
    uint32_t npages, nchapters;
    const uint8_t *pages, *chapters;
    const char *member;
    const recite_index *idx; /* the index (a shard's, in a sharded one) whose string table the
                                chapters' title and name offsets point into */
} rc_loc_record;
int rc_index_loc_record(const recite_index *idx, uint32_t w, rc_loc_record *out, recite_error *err);
/* recite_index_locate of two offsets of one work at once (a match's first and last byte): its
 * record read once, and its text block too when both offsets are in it. */
int rc_index_locate_span(recite_locator *a, recite_locator *b, const recite_index *idx,
                         uint32_t work, uint64_t off_a, uint64_t off_b, recite_error *err);
/* The string at offset off of STRINGS, NULL for 0. */
const char *rc_index_string(const recite_index *idx, uint64_t off);

/* ==== reading stored text (store.c) ==== */

/* The tokens of a stored text are read a chunk at a time: chunk i of a cluster is its tokens
 * [32 i, 32 i + 32), made by tokenizing from checkpoint i (or decoding token records from it),
 * so any token costs at most one chunk of tokenizing, and a chunk is made once however many
 * seeds, runs, alignments and classifications touch it. */
typedef struct rc_chunk {
    uint64_t key; /* rc_chunk_key(cluster, chunk); 0 = empty slot */
    uint32_t n;   /* tokens held: RC_CHECKPOINT_EVERY, fewer in a text's last chunk */
    rc_token toks[RC_CHECKPOINT_EVERY];
    rc_tokx tokx[RC_CHECKPOINT_EVERY]; /* text-free: the extras of each token */
} rc_chunk;

static inline uint64_t rc_chunk_key(uint32_t cluster, uint64_t chunk)
{
    return ((uint64_t)cluster << 32 | chunk) + 1; /* chunk < 2^27: tokens are u32 */
}

/* Per-thread reader state: a decompression context, a cache of decoded blocks and one of
 * tokenized chunks, both set-associative (a block's set: its number modulo the sets, so that
 * consecutive blocks fall in consecutive sets; a chunk's: a hash of cluster and chunk), the
 * least recently used slot of a set refilled, slots allocated on first use. The index is
 * immutable, so what is cached stays true for the reader's life: boilerplate brings the same
 * blocks and chunks back check after check, and the caches pay for themselves in a serving loop.
 * On the 500 library-heavy bench outputs checked once each, direct-mapped caches of 8192 chunks
 * missed 56,700 times for 31,100 distinct chunks; 4 ways of 16,384 chunks miss 38,900 times
 * (-4.5 % instructions with the blocks' 4 ways). */
#define RC_BLOCK_CACHE 8192  /* x 1 KiB = 8 MiB per reader at most */
#define RC_BLOCK_WAYS 4      /* slots of a set of the block cache */
#define RC_CHUNK_CACHE 16384 /* x 1.17 KiB = 19 MiB per reader at most */
#define RC_CHUNK_WAYS 4      /* slots of a set of the chunk cache */
typedef struct rc_store_reader {
    const recite_index *idx;
    ZSTD_DCtx *dctx;
    struct rc_block_slot {
        uint64_t block; /* block number + 1; 0 = empty slot */
        uint8_t *data;
        size_t len;
    } cache[RC_BLOCK_CACHE];
    rc_chunk **chunks; /* RC_CHUNK_CACHE slots, NULL until first used */
    /* Sets in use of each cache (powers of two): all of them (RC_..._CACHE / RC_..._WAYS), set
     * by rc_store_reader_init; a test lowers them to make the caches replace. */
    uint32_t block_sets, chunk_sets;
    RC_VEC(uint8_t) scratch;
    uint64_t hits, misses, chunk_hits, chunk_misses;
    struct rc_store_reader **sharded; /* a sharded index: a reader per shard, made on first use */
} rc_store_reader;

int rc_store_reader_init(rc_store_reader *r, const recite_index *idx);
void rc_store_reader_free(rc_store_reader *r);

/* A reader of idx for a check or a one-off read (recite_index_locate, recite_index_work_text):
 * the spare one given back last, unless other threads hold them all, else a new one (making
 * one per call cost ~8 % of a check's report). NULL when out of memory. Give it back with
 * rc_store_reader_put, which keeps it as a spare or frees it (RC_SPARE_READERS kept). */
rc_store_reader *rc_store_reader_get(const recite_index *idx);
void rc_store_reader_put(const recite_index *idx, rc_store_reader *r);
/* Empties the caches of the index's spare readers (decoded blocks, up to 8 MiB, and chunks):
 * for a pass that reads each text once through recite_index_work_text (a compaction), whose
 * reads would otherwise fill them for nothing. Any thread (a reader in use is left alone). */
void rc_store_spare_clear(const recite_index *idx);

/* Copies global text bytes [start, end) into out (which has room for end - start bytes). */
int rc_store_read(rc_store_reader *r, uint64_t start, uint64_t end, uint8_t *out,
                  recite_error *err);

/* Chunk `chunk` of `cluster` (whose record is *info): its tokens, byte offsets local to the
 * cluster's text. *out points into the reader's cache and stays valid until the reader's next
 * rc_store_chunk call. RECITE_EFORMAT when the stored text does not hold the tokens its record
 * says. */
int rc_store_chunk(const rc_chunk **out, rc_store_reader *r, rc_tokenizer *tz, uint32_t cluster,
                   const rc_cluster *info, uint64_t chunk, recite_error *err);

/* The chunk of `cluster` (record *info) whose checkpoint is the last at or before byte `byte`
 * of its text: where its tokens around that byte are, if the checkpoints are right. A hint, to
 * be checked against the tokens (nothing here validates the checkpoints); UINT64_MAX when there
 * is none (a text-free index, whose checkpoints are offsets of token records; a shard open
 * elsewhere; a page out of reach). */
uint64_t rc_store_chunk_of_byte(const recite_index *idx, uint32_t cluster, const rc_cluster *info,
                                uint64_t byte);

/* Opens the index at dir (index_load.c); a sharded one with only the shards s % nparts == part
 * when nparts > 1 (recite_index_open_part). */
int rc_index_open_at(recite_index **out, const char *dir, unsigned part, unsigned nparts,
                     recite_error *err);
/* A text-free index just opened: its key derived and checked (closed and *out NULL when the
 * key is not its); nothing to do for another index. */
int rc_index_take_key(recite_index **out, const char *dir, const void *key, size_t key_len,
                      recite_error *err);

/* ==== sharded indexes (index_shards.c) ==== */

/* Opens the shards of the head `idx` (mapped, its header parsed; flag RC_FLAG_SHARDED) found in
 * `dir` — with nparts > 1 only those s % nparts == part — and checks that they are the ones it
 * lists (sizes, header checksums, counts, channel parameters), in O(shards). */
int rc_shards_open(recite_index *idx, const char *dir, unsigned part, unsigned nparts,
                   recite_error *err);
void rc_shards_close(recite_index *idx);
/* The shard holding cluster `cluster`, token `gpos`, stored byte `off` (all in the library's
 * numbering, inside the index). */
uint32_t rc_shard_of_cluster(const recite_index *idx, uint64_t cluster);
uint32_t rc_shard_of_token(const recite_index *idx, uint64_t gpos);
uint32_t rc_shard_of_text(const recite_index *idx, uint64_t off);
/* The shard holding cluster or view i of the library (i < nclusters + nviews: view v of shard s
 * is nclusters + cluster0 of s + v, known from the head whichever shards are open), and its
 * number there (a view: the shard's nclusters + its view); rc_shard_global_cluster is the
 * reverse. */
uint32_t rc_shard_route(const recite_index *idx, uint32_t i, uint32_t *local);
uint32_t rc_shard_global_cluster(const recite_index *idx, uint32_t s, uint32_t local);
/* Where work w of the library is: its shard and its number there. RECITE_EFORMAT when the map's
 * entry fails its checksum or points outside the shards. */
int rc_shards_work(const recite_index *idx, uint32_t w, uint32_t *shard, uint32_t *local);
/* The library's number of work `local` of shard s; UINT32_MAX when the entry is damaged. */
uint32_t rc_shards_global_work(const recite_index *idx, uint32_t s, uint32_t local);
/* A shard's cluster record in the library's numbering (token base, stored offset, members; the
 * checkpoints stay the shard's). */
void rc_shards_globalize(const recite_index *idx, uint32_t s, rc_cluster *cl);
/* The reverse: a cluster record in the library's numbering as its shard s numbers it. */
void rc_shards_localize(const recite_index *idx, uint32_t s, rc_cluster *cl);
/* Where posting position `pos` of table t comes in the order of one index of the whole library:
 * (the library's number of its text's first work) << 32 | (its token within the text). Lookups
 * of a sharded index order the postings of a k-gram by it where only the first few are taken.
 * UINT64_MAX when the records read are damaged. */
uint64_t rc_posting_rank(const rc_posting_table *t, uint64_t pos, const recite_index *head);
/* The head's tables against its shards (every page of the head checked; the work map and the
 * shards' work lists inverse, each shard's works in library order, the head's members the
 * shards' in the library's numbering), and with shards_too every shard whole first
 * (recite_index_verify of a sharded index). */
int rc_shards_verify(const recite_index *idx, bool shards_too, recite_error *err);

/* ==== works of shards open elsewhere (index_remote.c) ====
 * An index opened in part keeps what a distributed check brought of the works in other
 * participants' shards that its result names: their records, CMI, clusters' members and the
 * locators of the offsets its matches give. recite_index_work, rc_index_work_cmi,
 * recite_index_cluster_members and recite_index_locate answer from it for those works, until
 * the next check replaces it. */

typedef struct rc_remote rc_remote;
rc_remote *rc_remote_new(void);
/* Forgets what the last check brought. */
int rc_remote_begin(const recite_index *idx);
/* A work: its record (strings copied), CMI record, and its cluster's members in the library's
 * numbering (the head's MEMBERS from member0 on). */
int rc_remote_add_work(const recite_index *idx, uint32_t work, const recite_work_info *info,
                       const uint8_t *cmi, size_t cmi_len, uint32_t member0, uint32_t nmembers);
int rc_remote_add_locator(const recite_index *idx, uint32_t work, uint64_t offset,
                          const recite_locator *loc);
/* Ends the filling: what was added can be looked up. */
int rc_remote_seal(const recite_index *idx);
void rc_remote_free(rc_remote *r);
/* Lookups: false when the store has nothing of it. */
bool rc_remote_work(const recite_index *idx, uint32_t work, recite_work_info *info,
                    const uint8_t **cmi, size_t *cmi_len);
bool rc_remote_members(const recite_index *idx, uint32_t cluster, uint32_t *member0,
                       uint32_t *nmembers);
bool rc_remote_locate(const recite_index *idx, uint32_t work, uint64_t offset, recite_locator *out);

#endif /* RC_INDEX_H */
