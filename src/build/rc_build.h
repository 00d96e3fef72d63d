/*
 * rc_build.h — the builder (layer 7): enumerating the inputs (build_walk.c), loading one
 * work's text and metadata and fingerprinting it (build_work.c), its CMI (build_cmi.c), its
 * stored text (build_store.c), families of near-duplicates (build_family.c), the
 * memory-bounded external sort of fingerprints (build_sort.c), the license index
 * (build_licenses.c); the orchestration is build.c with its private rc_builder.h.
 */
#ifndef RC_BUILD_H
#define RC_BUILD_H

#include "../index/rc_index.h"
#include "../fingerprint/rc_fingerprint.h"
#include "../text/rc_keyed.h"
#include "../cmi/rc_cmi.h"

#include <stdio.h>

/* ==== spools (build_spool.c) ==== */

/* An append-only byte stream: the last bytes in a buffer of `cap` bytes, the rest in an
 * unlinked temporary file in `dir` (made on the first overflow). A zeroed spool is empty (and
 * rc_spool_free accepts it); appending needs rc_spool_init first. Not thread-safe. */
typedef struct rc_spool {
    uint8_t *buf;     /* allocated on the first append */
    size_t n, cap;    /* bytes in buf, its size */
    uint64_t flushed; /* bytes in the file: they come before buf's */
    int fd;           /* the file, when `file` */
    bool file;
    const char *dir;
} rc_spool;

#define RC_SPOOL_CHUNK (64u << 10) /* bytes read back from the file at a time */

void rc_spool_init(rc_spool *s, const char *dir, size_t cap);
int rc_spool_append(rc_spool *s, const void *data, size_t len, recite_error *err);
static inline uint64_t rc_spool_size(const rc_spool *s)
{
    return s->flushed + s->n;
}
/* Reads bytes [off, off + len) of the stream. */
int rc_spool_read(const rc_spool *s, uint64_t off, void *out, size_t len, recite_error *err);
void rc_spool_free(rc_spool *s); /* closes the file (it was unlinked); the spool can be reused
                                    after rc_spool_init */

/* Reads a spool from the start: rc_spool_iter_next gives its bytes a piece at a time (*len 0 at
 * the end), rc_spool_iter_read fixed-size records (use one or the other on an iterator). */
typedef struct rc_spool_iter {
    const rc_spool *s;
    uint64_t off;
    uint8_t *buf; /* RC_SPOOL_CHUNK bytes when the spool has a file */
    const uint8_t *cur;
    size_t have, used;
} rc_spool_iter;

int rc_spool_iter_init(rc_spool_iter *it, const rc_spool *s, recite_error *err);
int rc_spool_iter_next(rc_spool_iter *it, const uint8_t **p, size_t *len, recite_error *err);
int rc_spool_iter_read(rc_spool_iter *it, void *out, size_t len, recite_error *err);
void rc_spool_iter_free(rc_spool_iter *it);

/* ==== inputs ==== */

enum {
    RC_SRC_FILE = 1,
    RC_SRC_JSONL = 2,
    RC_SRC_INDEX = 3, /* a work of an existing index (compaction): offset is its number */
    RC_SRC_GIT = 4    /* a blob of a git repository: offset indexes rc_inputs.blobs, line
                         rc_inputs.repos; its path is the work id repo@rev:path */
};

typedef struct rc_source {
    uint32_t path;     /* index into rc_inputs.paths */
    uint8_t kind;      /* RC_SRC_* */
    uint8_t explicit_; /* named on the command line (not found in a directory) */
    uint64_t offset;   /* JSONL: byte range of the line */
    uint64_t length;   /* bytes (file size or line length) */
    uint64_t line;     /* JSONL: 1-based line number */
} rc_source;

struct rc_repo; /* a git repository of the inputs (extract_git.c) */

typedef struct rc_inputs {
    RC_VEC(char *) paths; /* file paths, as reached from the arguments: the work ids of files */
    RC_VEC(rc_source) sources;
    uint64_t total_bytes;
    const recite_index *from;       /* the index of RC_SRC_INDEX sources */
    RC_VEC(struct rc_repo *) repos; /* git repositories (--git) */
    RC_VEC(uint8_t) blobs;          /* their blob ids, RC_GIT_OID_SIZE bytes each */
    bool git_init;                  /* libgit2 initialized for them */
} rc_inputs;

typedef void (*rc_note_fn)(recite_note_kind kind, const char *path, const char *detail, void *user);

/* Walks `paths` (files, directories recursively in byte order of names, .jsonl files split into
 * lines) into a list of sources. Hidden entries and non-regular files inside directories are
 * skipped with a note. Missing or unreadable arguments are errors. */
int rc_inputs_collect(rc_inputs *in, const char *const *paths, size_t npaths, rc_note_fn note,
                      void *user, recite_error *err);
/* Adds the files of git repositories ("REPO[@REV]") to the sources (extract_git.c). */
int rc_inputs_add_git(rc_inputs *in, const char *const *repos, size_t nrepos, rc_note_fn note,
                      void *user, recite_error *err);
void rc_inputs_free(rc_inputs *in);
void rc_repos_free(rc_inputs *in); /* the git part (extract_git.c) */

/* True for names ending in .jsonl or .ndjson. */
bool rc_is_jsonl_path(const char *path);

/* ==== one loaded work ==== */

enum rc_work_status {
    RC_WORK_OK = 0,
    RC_WORK_SKIP_EMPTY,
    RC_WORK_SKIP_BINARY,
    RC_WORK_SKIP_NOTE,   /* skipped with a note: note_kind and note say why */
    RC_WORK_OTHER_SHARD, /* a work of another shard of a sharded build: only its id is kept */
};

/* The shard of a sharded index that holds a text (identical texts land together). */
static inline unsigned rc_shard_of_content(rc_hash128 content, unsigned nshards)
{
    return (unsigned)(rc_mix64(content.lo ^ rc_mix64(content.hi)) % nshards);
}

/* A chapter of an EPUB: a spine item, in reading order. */
typedef struct rc_chapter {
    uint32_t start; /* byte offset of its text in the work */
    char *title;    /* from the book's table of contents or its first heading; NULL: none */
    char *name;     /* the item's file inside the book */
} rc_chapter;

#define RC_MINHASH 32 /* values in a text's MinHash signature */

typedef struct rc_fp {
    uint64_t hash;
    uint32_t pos;    /* token number within the work (a work has less than 2^32 bytes) */
    uint16_t ctx;    /* context hashes: left << 8 | right */
    uint8_t channel; /* enum rc_channel */
    uint8_t unused;
} rc_fp;

typedef struct rc_work_out {
    int status;               /* rc_work_status */
    char *strs[RC_WS_COUNT_]; /* id, title, ..., metadata JSON; NULL when absent */
    uint8_t *cmi_rec;         /* the binary CMI record (cmi_record.c), NULL when none */
    size_t cmi_rec_len;
    uint8_t *text; /* the work's bytes (malloc'd) */
    size_t text_len;
    rc_hash128 content; /* hash of the bytes: identical works share it */
    uint64_t ntokens;
    uint64_t invalid_utf8;
    int mode;                     /* RECITE_MODE_PROSE or RECITE_MODE_CODE */
    bool mode_given;              /* by the JSONL "mode" field */
    RC_VEC(rc_fp) fps;            /* winnowed fingerprints (the last ones, when spilled) */
    RC_VEC(uint32_t) checkpoints; /* byte offset to restart at for tokens 0, 32, 64, ... */
    /* A code work's words (its view, docs/FORMAT.md): how many, their checkpoints and, in a
     * text-free index, where their token records start in `records` (after the lexemes'). Its
     * fingerprints of the prose channel count positions in words. */
    uint64_t nwords;
    RC_VEC(uint32_t) word_checkpoints;
    size_t word_records_at;
    uint32_t minhash[RC_MINHASH]; /* signature of its fingerprints (build_family.c) */
    bool minhash_usable;          /* enough fingerprints for the signature to mean much */
    bool text_free;               /* records are stored instead of the text */
    RC_VEC(uint8_t)
    records;               /* text-free: the token records (src/index/tokrec.c) not
                              compressed yet */
    uint64_t records_done; /* text-free: bytes of records compressed (and dropped) */
    RC_VEC(uint8_t)
    zdata; /* the stored bytes as zstd frames, one per block (the last
              ones, when spilled) */
    /* A large work's first fingerprints and frames, spilled to temporary files (worker
     * contexts with spill_bytes set): read them with rc_work_fp_next and rc_spool_copy. */
    rc_spool fps_spool, zdata_spool;
    RC_VEC(uint32_t)
    zblocks; /* per block: compressed length (raw: RC_TEXT_BLOCK_SIZE,
                the last one the rest) */
    /* Locators (docs/FORMAT.md, LOCATORS): where offsets of the text are in the original. */
    RC_VEC(uint32_t) pages;       /* PDF: the offset where page i + 1 starts (pages.v[0] = 0) */
    RC_VEC(rc_chapter) chapters;  /* EPUB: its spine items */
    char *member;                 /* from an archive: the path inside it ("b.zip!c.txt") */
    RC_VEC(uint32_t) block_lines; /* lines before each text block (not text-free) */
    /* Skipped with a note (RC_WORK_SKIP_NOTE), and which source gave the work (a source may
     * give several: archives). */
    recite_note_kind note_kind;
    char *note;
    size_t src;
    bool src_last;       /* the last work of its source */
    bool compress_later; /* its text is compressed when handed on (build_defer.c) */
    bool license_found;  /* its CMI names a license (an SPDX tag or an identified one) */
} rc_work_out;

#define RC_FROM_RELEASE (1u << 20)

/* Receives each work a source gives, in order (ownership of *out moves to the callee, which
 * leaves it zeroed). Returns RECITE_OK, or an error that stops the build. */
typedef int (*rc_emit_fn)(rc_work_out *out, void *user);

/* Works whose compression waits (build_defer.c): up to RC_DEFER_BYTES of their texts, held by a
 * worker besides what it loads. */
#define RC_DEFER_BYTES (1u << 20)
typedef struct rc_defer {
    RC_VEC(rc_work_out) q;
    size_t bytes;    /* of the texts waiting to be compressed */
    rc_emit_fn emit; /* where the works go once compressed */
    void *user;
    recite_error err; /* why a flush from rc_defer_emit failed */
    bool err_set;
} rc_defer;

/* Per-thread scratch for loading works. */
#define RC_HISTORY 1024 /* token hashes a channel keeps for contexts (>= w + k + 2c) */

/* Winnowing state of one channel while a work is fingerprinted. */
typedef struct rc_chan_state {
    int channel;
    unsigned kgram, window, context;
    rc_winnow wn;
    size_t pending;    /* first fingerprint whose right context is not filled in yet */
    uint64_t ready_at; /* tokens it takes to fill the first of this channel's pending ones */
    uint64_t history[RC_HISTORY];
} rc_chan_state;

typedef struct rc_work_ctx {
    rc_tokenizer tz;
    rc_token toks[4096];
    rc_chan_state chans[2];                           /* prose; or code and shape */
    unsigned kgram[RC_CHANNELS], window[RC_CHANNELS]; /* parameters of each channel */
    int mode;                                         /* RECITE_MODE_PROSE, _CODE or _AUTO */
    /* CMI: the license index, a matcher of it, a cache of identified license headers and
     * scratch for a work's header (cmi.header NULL: no CMI extraction). */
    rc_cmi_ctx cmi;
    ZSTD_CCtx *cctx;
    const ZSTD_CDict *cdict; /* shared by all workers; NULL without a dictionary */
    const rc_key *key;       /* text-free: the key of the token hashes; NULL: store the text */
    uint8_t sig[RC_TOKX_SIG_CAP];
    /* Extraction of documents and archives (extract*.c): limits, and open repositories. */
    unsigned archive_depth;
    uint64_t max_expanded, max_ratio;
    struct rc_git_cache *git;
    uint64_t from_read;      /* compaction: bytes of texts read from the old index since its pages
                                and its spare reader's caches were last given back (every
                                RC_FROM_RELEASE) */
    bool extract_only;       /* extracted works are handed on unprocessed (bench/bench_extract.c) */
    unsigned shard, nshards; /* a sharded build: the works of other shards are only hashed */
    /* Bytes of fingerprints (and of frames) a work keeps in memory before the rest goes to a
     * temporary file in spill_dir; 0: all in memory. */
    size_t spill_bytes;
    const char *spill_dir;
    recite_error spill_err; /* why a spill failed (RECITE_EIO) */
    bool defer_compress;    /* works are compressed in runs (build_defer.c), not one by one */
    rc_defer defer;
} rc_work_ctx;

/* Loads, validates and fingerprints one source. Errors (unreadable file, malformed JSONL line)
 * return a status with `err` filled; skips are reported through out->status. */
int rc_work_load(rc_work_ctx *ctx, const rc_inputs *in, const rc_source *src, rc_work_out *out,
                 recite_error *err);
void rc_work_out_free(rc_work_out *out);

/* Checks, hashes, fingerprints, compresses and extracts the CMI of out->text (read or
 * extracted; out->strs[RC_WS_ID] set): the second half of rc_work_load. `name` names the work
 * in messages. Sets out->status for empty texts. */
int rc_work_process(rc_work_ctx *ctx, rc_work_out *out, const char *name, recite_error *err);

/* Loads every work of one source — a file (a document or an archive gives its works, with
 * locators, extracted by content: rc_extract.h), a JSONL line, a git blob, a work of an index —
 * and hands each to emit, the last with src_last set. Extraction problems are works skipped
 * with a note; errors (unreadable file, malformed JSONL line, out of memory) stop the build. */
int rc_source_load(rc_work_ctx *ctx, const rc_inputs *in, size_t src, rc_emit_fn emit, void *user,
                   recite_error *err);
void rc_work_ctx_free_extract(rc_work_ctx *ctx); /* the repositories a worker opened */

/* Deferred compression (build_defer.c), for a worker with ctx->defer_compress set: hand works to
 * rc_defer_emit (user: the ctx), which queues them and, past RC_DEFER_BYTES of texts, compresses
 * and hands them all to emit(user) set by rc_defer_init; rc_defer_flush does so for the rest
 * (at the end of a batch). On failure the works queued are dropped and the error is in err (or
 * ctx->defer.err for rc_defer_emit). */
void rc_defer_init(rc_defer *d, rc_emit_fn emit, void *user);
int rc_defer_emit(rc_work_out *out, void *user);
int rc_defer_flush(rc_work_ctx *ctx, recite_error *err);
void rc_defer_free(rc_defer *d);

/* Whether s is one of the provenance kinds of the contract (purchased, scanned, licensed,
 * public-domain, shadow-library, unknown). */
bool rc_is_source_kind(const char *s);

/* Fills out->strs[RC_WS_CMI] and out->cmi_rec for a loaded work (its CMI record in JSON and in
 * binary); build_cmi.c. */
int rc_work_cmi(rc_work_ctx *ctx, rc_work_out *out);

/* Builds the license index at dir/licenses from the license texts of src (taken from its cache
 * when there); *built is false when there are none. build_licenses.c. */
int rc_license_index_build(const char *dir, const rc_license_src *src, bool *built,
                           recite_error *err);

/* The bytes stored for a loaded work: its text, or (text-free) its token records. */
static inline size_t rc_work_stored_len(const rc_work_out *w)
{
    return w->text_free ? (size_t)w->records_done + w->records.n : w->text_len;
}

/* A loaded work's fingerprints in order, spilled ones first: rc_work_fp_next returns 1 with
 * *fp set, 0 at the end, or an error. */
typedef struct rc_work_fp_iter {
    const rc_work_out *w;
    rc_spool_iter it;
    uint64_t left; /* spilled fingerprints not read yet */
    size_t i;      /* next one in memory */
    rc_fp cur;
} rc_work_fp_iter;

int rc_work_fp_iter_init(rc_work_fp_iter *fi, const rc_work_out *w, recite_error *err);
int rc_work_fp_next(rc_work_fp_iter *fi, const rc_fp **fp, recite_error *err);
void rc_work_fp_iter_free(rc_work_fp_iter *fi);

/* Tokenizes and winnows text already in out->text (used by rc_work_load; exposed for tests). */
int rc_work_fingerprint(rc_work_ctx *ctx, rc_work_out *out);

/* ==== stored text (build_store.c) ==== */

/* Trains a zstd dictionary on a deterministic sample of the inputs (pieces of
 * RC_TEXT_BLOCK_SIZE spread over all bytes), so that small blocks compress about as well as
 * large ones. Leaves *dict NULL (no dictionary) for small libraries. */
int rc_store_dict_train(const rc_inputs *in, void **dict, size_t *len, recite_error *err);

/* Compresses text into blocks of RC_TEXT_BLOCK_SIZE bytes (the last may be shorter), one zstd
 * frame each, appending to out->zdata (spilling it to out->zdata_spool when ctx->spill_bytes
 * says so) and out->zblocks. Returns RECITE_ENOMEM, or RECITE_EIO with ctx->spill_err set. */
int rc_store_compress(rc_work_ctx *ctx, const ZSTD_CDict *cdict, const uint8_t *text, size_t len,
                      rc_work_out *out);

/* ==== families of near-duplicate texts (build_family.c) ==== */

/* MinHash signature of the fingerprints of a text (RC_MINHASH values), built a fingerprint at a
 * time: rc_minhash_init, rc_minhash_add for each, rc_minhash_finish (*usable is false when
 * there are too few fingerprints for it to mean much). */
typedef struct rc_minhash_state {
    uint32_t sig[RC_MINHASH];
    size_t used;
} rc_minhash_state;
void rc_minhash_init(rc_minhash_state *m);
void rc_minhash_add(rc_minhash_state *m, const rc_fp *fps, size_t n);
void rc_minhash_finish(rc_minhash_state *m, uint32_t *sig, bool *usable);

/* Families of n texts from their signatures, records of RC_MINHASH u32 and a u32 "usable" in
 * a spool (read a band at a time: memory is 16 bytes per text): family[i] is the first text of
 * i's family. */
int rc_families(const rc_spool *sigs, uint32_t n, uint32_t *family, recite_error *err);

/* ==== external sort of postings ==== */

typedef struct rc_posting_rec {
    uint64_t hash;    /* top 48 bits: the fingerprint's; low 16 bits: its context hashes */
    uint32_t gpos;    /* global token number of the k-gram */
    uint32_t cluster; /* the text holding it, for document frequency */
} rc_posting_rec;

/* Postings are ordered (and grouped per fingerprint) by the top 48 bits of the fingerprint:
 * the index keeps fewer bits than that, and three radix passes instead of four. */
#define RC_SORT_KEY(h) ((h) >> 16)

struct rc_merge;

typedef struct rc_sorter {
    rc_posting_rec *buf, *tmp; /* records, and the radix sort's scratch of the same size */
    size_t *counts;            /* radix histogram (65536 entries) */
    size_t n, cap;             /* cap: records it may hold (lowered by rc_sorter_limit) */
    const char *dir;           /* where runs are spilled */
    RC_VEC(char *) runs;
    RC_VEC(uint64_t) run_lens;
    struct rc_merge *merge; /* after rc_sorter_finish, when runs were spilled */
    size_t read_cap;        /* records per read buffer of the merge */
    uint64_t nfiles;        /* run files made (their names) */
    size_t spilled;         /* runs spilled (before any was merged into a longer one) */
    size_t next;            /* after rc_sorter_finish, when everything fitted in memory */
    uint64_t total;
    uint64_t peak_bytes;
} rc_sorter;

/* A sorter that keeps at most `mem_bytes` of records (and the radix sort's scratch) in memory
 * before spilling a sorted run to a file in `dir`. */
int rc_sorter_init(rc_sorter *s, size_t mem_bytes, const char *dir, recite_error *err);
/* Lowers the sorter's memory to `mem_bytes` (a larger value changes nothing): it spills now if
 * it holds more, and gives back the pages of its buffers beyond. */
int rc_sorter_limit(rc_sorter *s, size_t mem_bytes, recite_error *err);
int rc_sorter_add(rc_sorter *s, const rc_posting_rec *r, recite_error *err);
/* Sorts what remains; then rc_sorter_next yields every record in (hash, gpos) order. */
int rc_sorter_finish(rc_sorter *s, recite_error *err);
/* Returns 1 with *out filled, 0 at the end, or an error. */
int rc_sorter_next(rc_sorter *s, rc_posting_rec *out, recite_error *err);
void rc_sorter_free(rc_sorter *s); /* also deletes the run files */
/* Once every record was read: frees the buffers and deletes the run files, keeping the
 * counters (spilled, peak_bytes, total); rc_sorter_free still follows. */
void rc_sorter_release(rc_sorter *s);

/* Sorts records by RC_SORT_KEY(hash), stable (LSD radix); exposed for tests. `tmp` has room for n
 * records, `counts` for 65536 entries. */
void rc_radix_sort(rc_posting_rec *a, rc_posting_rec *tmp, size_t n, size_t *counts);

#endif /* RC_BUILD_H */
