/*
 * rc_format.h — the on-disk index format (docs/FORMAT.md), shared by its writer (src/build) and
 * its reader (index_load.c, store.c): file and section layout, header fields, cluster and work
 * records, posting keys, and the token records of text-free indexes. Little-endian,
 * fixed-width fields, 64-byte aligned sections, XXH3-64 checksums.
 */
#ifndef RC_FORMAT_H
#define RC_FORMAT_H

#include "../common/rc_common.h"
#include "../text/rc_keyed.h"
#include "../text/rc_text.h"

#define RC_INDEX_FILE "recite.idx"
#define RC_CATALOG_FILE "catalog.sqlite" /* the provenance catalogue beside it (src/catalog) */
#define RC_INDEX_MAGIC "RECITEIX"
#define RC_FORMAT_VERSION                                                                          \
    6u /* 3: locators (sections 24-26); 4: binary CMI records (19-20),                             \
          page checksums (21), 1 KiB text blocks; 5: word views of code texts (22), common         \
          threshold; 6: sharded indexes (flag 4, key bits, sections 27-32) */
#define RC_HEADER_SIZE 128u
#define RC_SECTION_ENTRY_SIZE 32u
#define RC_MAX_SECTIONS 32u
#define RC_SECTIONS_OFFSET RC_HEADER_SIZE
#define RC_DATA_OFFSET (RC_HEADER_SIZE + RC_MAX_SECTIONS * RC_SECTION_ENTRY_SIZE) /* 1152 */
#define RC_SECTION_ALIGN 64u
/* The file from RC_DATA_OFFSET up to the PAGE_SUMS section is cut into pages of this size (the
 * last one shorter), each with its checksum in PAGE_SUMS: a reader checks a page the first time
 * it reads from it, so opening reads no section body and no result rests on an unchecked byte. */
#define RC_PAGE_SIZE 4096u

#define RC_TEXT_BLOCK_SIZE 1024u
#define RC_TEXT_LEVEL 3
#define RC_CHECKPOINT_EVERY 32u
#define RC_POSTING_REM_BITS 14u /* hash bits kept per posting after the bucket bits */

/* Document frequency of a fingerprint (distinct families of texts holding it), kept as a 2-bit
 * class in the low bits of each posting's key: 0 = one text, 1 = 2-7, 2 = 8 up to the common
 * threshold, 3 = the threshold or more (common language). The threshold is relative to the
 * library (rc_common_texts), recorded in the header. */
#define RC_DF_COMMON 3u
#define RC_COMMON_TEXTS_MIN 8u
#define RC_COMMON_TEXTS_MAX 64u
static inline unsigned rc_df_class(uint64_t texts, unsigned common_texts)
{
    return texts <= 1 ? 0u : texts < 8 ? 1u : texts < common_texts ? 2u : 3u;
}
/* The common threshold of a library of `families` families of texts: 1% of them, at least 8
 * and at most 64 (a passage in 40 of 660 works is boilerplate; in 64 distinct texts it is
 * whatever the library's size). */
static inline unsigned rc_common_texts(uint64_t families)
{
    uint64_t t = (families + 99) / 100;
    return (unsigned)(t < RC_COMMON_TEXTS_MIN   ? RC_COMMON_TEXTS_MIN
                      : t > RC_COMMON_TEXTS_MAX ? RC_COMMON_TEXTS_MAX
                                                : t);
}

/* Fingerprint channels: each has its own tokens, parameters and posting tables. Prose works
 * feed the prose channel; code works feed both code channels (exact lexemes, and their shapes,
 * which renamed copies share). */
enum rc_channel { RC_CH_PROSE = 0, RC_CH_CODE = 1, RC_CH_SHAPE = 2, RC_CHANNELS = 3 };

enum rc_section_id {
    RC_SEC_TEXT_DATA = 1,   /* zstd frames, one per text block */
    RC_SEC_TEXT_BLOCKS = 2, /* (nblocks + 1) x {u64 raw_offset, u64 compressed_offset} */
    RC_SEC_CLUSTERS = 3,    /* nclusters x cluster records (56 bytes) */
    RC_SEC_WORKS = 4,       /* nworks x work records (72 bytes) */
    RC_SEC_MEMBERS = 5,     /* u32 work numbers, grouped by cluster */
    RC_SEC_STRINGS = 6,     /* NUL-terminated UTF-8 strings; offset 0 is the empty string */
    RC_SEC_CHECKPOINTS = 7, /* u32 byte offsets, local to a cluster's text */
    RC_SEC_TEXT_DICT = 8,   /* zstd dictionary of the text blocks (may be empty) */
    RC_SEC_CHANNELS = 9,    /* RC_CHANNELS x 32 bytes: parameters of each channel */
    RC_SEC_POST_BASE = 10,  /* per channel c, sections 10 + 3c, 11 + 3c, 12 + 3c: */
    RC_SEC_CMI_DIR = 19,    /* (nworks + 1) x u64: work w's CMI record is CMI_DATA[w, w + 1) */
    RC_SEC_CMI_DATA = 20,   /* binary CMI records (src/cmi/cmi_record.c) */
    RC_SEC_PAGE_SUMS = 21,  /* the last section: XXH3-64 of each page before it (below) */
    RC_SEC_VIEWS = 22,      /* nviews x view records (40 bytes): the words of code texts */
    /* Locators (src/index/locate.c): where an offset of a work is in its original. */
    RC_SEC_LOC_INDEX = 24, /* (nworks + 1) x u64: offset of each work's record in LOC_DATA */
    RC_SEC_LOC_DATA = 25,  /* the works' locator records (RC_LOC_* below) */
    RC_SEC_LINES = 26,     /* per text block, u32: lines of its text before the block (empty
                              in text-free indexes) */
    /* The head of a sharded index (RC_FLAG_SHARDED; src/index/index_shards.c): */
    RC_SEC_SHARDS = 27,          /* per shard, RC_SHARD_REC_SIZE bytes (below) */
    RC_SEC_WORK_MAP = 28,        /* per work of the library, u32 shard, u32 work in the shard */
    RC_SEC_SHARD_WORKS = 29,     /* per shard in order, per work of the shard, u32 library work */
    RC_SEC_POST_XBITS_BASE = 30, /* per channel c, section 30 + c (a shard whose key bits exceed
                                    its bucket bits): per posting, u8 the fingerprint bits
                                    between its bucket bits and its key bits */
    RC_SEC_COUNT_ = 33
};
/* A shard of a sharded index (SHARDS record): u64 works, u64 clusters, u64 tokens, u64 stored
 * bytes, u64 bytes of its texts, u64 file size, u64 the header checksum of its recite.idx
 * (bytes 120-127: it covers the shard's section table, and through it every byte), u64
 * postings of its three channels. A shard lives in DIR/shard-NNNN/ (RC_SHARD_DIR). */
#define RC_SHARD_REC_SIZE 64u
#define RC_SHARD_DIR "shard-%04u"
#define RC_MAX_SHARDS 65536u
/* A work's locator record (empty for a work with no pages, chapters or member): u32 pages,
 * u32 chapters, u64 member (string offset, 0 none), then pages x u32 (the offset where page
 * i + 1 starts; the first is 0), then chapters x {u32 start offset, u32 0, u64 title string,
 * u64 name string} in increasing start order. */
#define RC_LOC_HEAD_SIZE 16u
#define RC_LOC_CHAPTER_SIZE 24u
/* (nbuckets + 1) x u32: first posting of each bucket */
#define RC_SEC_POST_DIR(ch) (RC_SEC_POST_BASE + 3 * (ch))
/* npostings x u32: DF class, hash bits, context hashes */
#define RC_SEC_POST_KEY(ch) (RC_SEC_POST_BASE + 3 * (ch) + 1)
/* npostings x u32: global token number of the k-gram */
#define RC_SEC_POST_POS(ch) (RC_SEC_POST_BASE + 3 * (ch) + 2)
/* per posting, u8: fingerprint bits [bucket bits, key bits) (shards only, when they differ) */
#define RC_SEC_POST_XBITS(ch) (RC_SEC_POST_XBITS_BASE + (ch))
/* u32 k, u32 w, u32 bucket bits, u32 key bits (0: the bucket bits), u64 postings, u64 0 */
#define RC_CHANNEL_REC_SIZE 32u
#define RC_MAX_XBITS 8u /* key bits exceed bucket bits by at most this */

/* Bucket bits of a posting table of n postings: about 8 postings a bucket. */
static inline unsigned rc_bucket_bits_for(uint64_t npostings)
{
    unsigned bits = 0;
    while (bits < 32 && ((uint64_t)8 << bits) < npostings)
        bits++;
    return bits;
}

/* Header fields (offsets into the 128-byte header). */
enum {
    RC_H_MAGIC = 0,        /* 8 bytes "RECITEIX" */
    RC_H_VERSION = 8,      /* u32 format version */
    RC_H_TOKENIZER = 12,   /* u32 tokenizer version */
    RC_H_FLAGS = 16,       /* u64: RC_FLAG_* */
    RC_H_FILE_SIZE = 24,   /* u64 */
    RC_H_CREATED = 32,     /* u64 unix seconds */
    RC_H_KEY_CHECK = 40,   /* u64 text-free: rc_key.check of the key (0 otherwise) */
    RC_H_MODE = 48,        /* u32 recite_mode the index was built with */
    RC_H_NSECTIONS = 52,   /* u32 */
    RC_H_NWORKS = 56,      /* u64 */
    RC_H_NCLUSTERS = 64,   /* u64 */
    RC_H_NTOKENS = 72,     /* u64 tokens of all cluster texts */
    RC_H_TEXT_BYTES = 80,  /* u64 bytes of all cluster texts */
    RC_H_COMMON = 88,      /* u32 families holding a fingerprint for it to be common language */
    RC_H_BLOCK_SIZE = 100, /* u32 raw bytes per text block (a text's last one may be shorter) */
    RC_H_WORK_BYTES = 104, /* u64 bytes of all cluster texts as indexed (= TEXT_BYTES unless
                              text-free, where the stored stream holds token records) */
    RC_H_CHECKSUM = 120    /* u64 XXH3-64 of header + section table, this field zeroed */
};

/* Modes on disk (cluster records, header): 0 prose, 1 code, 2 auto (the header's build mode
 * only). In memory they are recite_mode values. */
static inline uint32_t rc_mode_to_disk(int mode)
{
    return mode == RECITE_MODE_CODE ? 1u : mode == RECITE_MODE_AUTO ? 2u : 0u;
}
static inline int rc_mode_from_disk(uint32_t v)
{
    return v == 0 ? RECITE_MODE_PROSE : v == 1 ? RECITE_MODE_CODE : v == 2 ? RECITE_MODE_AUTO : -1;
}

#define RC_FLAG_TEXT_FREE 1u /* no text stored: token records (keyed hashes and offsets) */
#define RC_FLAG_CMI 2u       /* CMI was extracted from the works (not --no-cmi) */
#define RC_FLAG_SHARDED 4u   /* the head of a sharded index: its works are in its shards */

/* A view: the words of a code cluster's text, tokenized as prose, so that code works are found
 * by their words too (comments, docstrings, license headers, code shorter than the code
 * guarantee). Its postings are in the prose channel. Views are in the order of their clusters;
 * a view's tokens follow its cluster's in the global token space (and its checkpoints the
 * cluster's), so clusters and views together tile the tokens. Record: u32 cluster, u32 0,
 * u64 stored offset (the cluster's text; text-free: the view's token records, which follow
 * the cluster's), u64 first global token, u64 tokens (words), u64 first checkpoint. The matcher
 * numbers view v as cluster nclusters + v (rc_index_cluster). */
#define RC_VIEW_REC_SIZE 40u

/* A cluster: one distinct text, held by one or more works. */
#define RC_CLUSTER_REC_SIZE 56u
typedef struct rc_cluster {
    uint64_t text_offset; /* in the global stored stream (text, or token records if text-free) */
    uint64_t text_len;    /* bytes of the text as indexed */
    uint64_t token_base;  /* global token number of its first token */
    uint64_t ntokens;     /* words (prose) or lexemes (code) */
    uint64_t checkpoint0; /* index of its first checkpoint */
    uint32_t member0;     /* index into MEMBERS */
    uint32_t nmembers;
    uint32_t mode;   /* RECITE_MODE_PROSE or RECITE_MODE_CODE: how its tokens are made (on
                        disk: rc_mode_to_disk) */
    uint32_t family; /* first cluster of its family of near-duplicates (forks, copies) */
    /* In memory only: the cluster whose works these are — itself, or for a view (a number
     * nclusters + v) the code cluster whose words it holds. */
    uint32_t primary;
    bool view;
} rc_cluster;

#define RC_WORK_REC_SIZE 88u
enum rc_work_str {
    RC_WS_ID,
    RC_WS_TITLE,
    RC_WS_AUTHOR,
    RC_WS_LICENSE,
    RC_WS_COPYRIGHT,
    RC_WS_SOURCE,
    RC_WS_URL,
    RC_WS_META,
    RC_WS_CMI,  /* CMI found in the text (JSON): notices, SPDX tag, identified license */
    RC_WS_HASH, /* XXH3-128 of the text, 32 hex digits (absent in text-free indexes) */
    RC_WS_COUNT_
};
/* Work record: 10 x u64 string offsets (0 = absent, except id), u32 cluster, u32 flags. */

/* The u32 key stored with each posting: bits 0-1 the DF class of the fingerprint, bits 2-15 the
 * 14 fingerprint bits after the bucket bits, bits 16-23 and 24-31 the context hashes of the
 * tokens just before and just after the k-gram (rc_context8). */
static inline uint32_t rc_posting_key(uint64_t h, unsigned bucket_bits, unsigned df_class,
                                      unsigned left8, unsigned right8)
{
    uint64_t rem =
        (h >> (64 - bucket_bits - RC_POSTING_REM_BITS)) & ((1u << RC_POSTING_REM_BITS) - 1);
    return (uint32_t)df_class | (uint32_t)(rem << 2) | ((uint32_t)left8 << 16) |
           ((uint32_t)right8 << 24);
}
#define RC_KEY_HASH_MASK 0xfffcu

/* A shard keeps the 14 key bits of the posting at the library's position (its key bits K, those
 * of one index of the whole library) though its own directory has fewer bucket bits B: the
 * fingerprint bits [B, K) are then kept apart (RC_SEC_POST_XBITS), so a lookup compares the same
 * bits in every shard as in one index, and finds the same postings. */
static inline uint32_t rc_posting_xbits(uint64_t h, unsigned bucket_bits, unsigned key_bits)
{
    return key_bits > bucket_bits
               ? (uint32_t)(h >> (64 - key_bits)) & ((1u << (key_bits - bucket_bits)) - 1)
               : 0;
}

/* ==== token records of text-free indexes (tokrec.c) ==== */

/* Per token, besides its keyed hashes and offsets: short keyed hashes of its bytes, of the gap
 * up to the next token, and of the punctuation signature of token and gap, which tell exact
 * from normalized from near copies without the text. */
#define RC_TOKX_SIG_CAP 256
#define RC_TOKREC_MAX 32 /* longest encoded record */
enum { RC_KD_TOKEN = 1, RC_KD_GAP = 2, RC_KD_PUNCT = 3 };
typedef struct rc_tokx {
    uint16_t xtok;
    uint8_t xgap, pgap;
} rc_tokx;

/* The extras of the token text[start, end) whose next token starts at next_start (or len). */
void rc_tokx_of(const rc_key *key, const uint8_t *text, size_t len, uint64_t start, uint64_t end,
                uint64_t next_start, uint8_t *sig, rc_tokx *x);

/* Encodes token t (keyed hashes) into out (RC_TOKREC_MAX bytes); a checkpoint token (every
 * RC_CHECKPOINT_EVERY-th) stores its start whole, the others the gap after prev_end. Returns
 * the length. */
size_t rc_tokrec_encode(uint8_t *out, const rc_token *t, const rc_tokx *x, uint64_t prev_end,
                        bool checkpoint, bool code);
/* Decodes a record from in[0, avail): its length, 0 if avail is too short for it, SIZE_MAX if
 * it is malformed. */
size_t rc_tokrec_decode(const uint8_t *in, size_t avail, uint64_t prev_end, bool checkpoint,
                        bool code, rc_token *t, rc_tokx *x);

#endif /* RC_FORMAT_H */
