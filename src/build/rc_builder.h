/*
 * rc_builder.h — the state of one build, shared by the builder's own files (not by the rest of
 * src/build): build.c (phases: prepare, load and commit works on threads, families),
 * index_write.c (the section writer and the sections of recite.idx), build_publish.c (the
 * temporary directory and the atomic publish) and build_compact.c (compaction).
 */
#ifndef RC_BUILDER_H
#define RC_BUILDER_H

#include "rc_build.h"

#include <pthread.h>
#include <xxhash.h>

/* ==== section writer: buffered pwrite with a running checksum (index_write.c) ==== */

typedef struct rc_secw {
    int fd;
    uint64_t start, off;
    XXH3_state_t *xs;
    uint8_t buf[1 << 16];
    size_t n;
    int errnum;
} rc_secw;

typedef struct rc_section_entry {
    uint32_t id;
    uint64_t offset, length, checksum;
} rc_section_entry;

void rc_secw_begin(rc_secw *w, int fd, uint64_t start);
void rc_secw_write(rc_secw *w, const void *data, size_t len);
void rc_secw_u32(rc_secw *w, uint32_t v);
void rc_secw_u64(rc_secw *w, uint64_t v);
rc_section_entry rc_secw_end(rc_secw *w, uint32_t id);
/* Writes the section table of header h (RC_DATA_OFFSET bytes) and then its checksum. */
void rc_header_finish(uint8_t *h, const rc_section_entry *sec, size_t nsec);
uint64_t rc_align_up(uint64_t x);

/* ==== the state of a build ==== */

/* Open addressing: hash -> value (several values may share a hash). */
typedef struct rc_slot_table {
    uint64_t *keys; /* hash; 0 marks an empty slot (hashes are forced non-zero) */
    uint32_t *vals;
    size_t cap, n;
} rc_slot_table;

/* A batch of sources loaded by one worker. A source may give several works (archives), so
 * the works flow to the committing thread as they come: outs.v[taken, outs.n) are waiting,
 * holding `pending` bytes; the worker waits while that is more than RC_BATCH_HOLD. */
typedef struct rc_batch {
    size_t first, count; /* sources */
    RC_VEC(rc_work_out) outs;
    size_t taken;
    uint64_t pending;
    int rc;
    recite_error err;
    bool done;
} rc_batch;

typedef struct rc_cluster_rec {
    uint64_t text_offset, text_len, token_base, ntokens, checkpoint0;
    rc_hash128 content;
    uint32_t member0, nmembers, mode;
    uint32_t family; /* first cluster of its family of near-duplicates (the builder's `family`
                        array has it once computed) */
} rc_cluster_rec;

typedef struct rc_view_rec {
    uint32_t cluster;
    uint32_t unused; /* 0 (the record goes to a spool's file whole) */
    uint64_t text_offset, token_base, ntokens, checkpoint0;
} rc_view_rec;

/* ==== sharded builds (build_shards.c) ==== */

/* One shard's part in a sharded build: it reads every input, indexes the works whose text
 * hashes to it (rc_shard_of_content) and counts the others, so that works keep the numbers one
 * index of the library would give them; what depends on the whole library (families, document
 * frequency) is exchanged with the other shards through `comm` at fixed steps. */
typedef struct rc_shard_build {
    const recite_comm *comm;
    unsigned shard, nshards;
    unsigned step;       /* collective steps taken (rc_shard_agree) */
    const char *root;    /* the temporary directory of the whole index: licenses/, shard-NNNN/ */
    uint64_t works_seen; /* works of the library committed so far, every shard's */
    RC_VEC(uint32_t) global;   /* the library's number of each work of this shard */
    RC_VEC(char) other_ids;    /* the ids of other shards' works (for duplicate ids) */
    RC_VEC(uint64_t) other_at; /* where each starts in other_ids */
    /* document frequency: the fingerprint groups written, to patch their classes (spools, set
     * up by the shard's builder: they grow with its postings) */
    rc_spool df_send; /* (u64 key, u32 family) per group and distinct family */
    rc_spool groups;  /* per group written: u64 key, u32 postings */
    uint64_t ngroups;
    unsigned key_bits[RC_CHANNELS]; /* one index of the library's bucket bits (step 4) */
    unsigned common_texts;          /* the library's common threshold (step 4) */
} rc_shard_build;

struct rc_builder;
/* Collective step: every shard passes its status (rc, with err); all return the first failure
 * of any shard (with its message), or RECITE_OK. */
int rc_shard_agree(rc_shard_build *sb, int rc, recite_error *err);
/* A step with a payload: agree on rc, then the comm's allgather (build_shards.c). */
int rc_shard_allgather(rc_shard_build *sb, int rc, const void *send, size_t len, void **out,
                       size_t *lens, recite_error *err);
/* The steps left of a shard that failed, taken with its failure so that the others learn it. */
#define RC_SHARD_STEPS 8
#define RC_MAX_SHARDS_BUILD 4096u
void rc_shard_drain(rc_shard_build *sb, int rc);
/* The sharded build: recite_index_build_sharded, or the compaction of a sharded index (from,
 * works) in this process (build_head.c). */
int rc_build_sharded(recite_build_stats *stats, const char *dir, const char *const *paths,
                     size_t npaths, const recite_index *from, const uint32_t *works, size_t nworks,
                     unsigned nshards, const recite_comm *comm, const recite_build_options *opt,
                     recite_error *err);
/* Families over the whole library (step 4): sets b->family and b->family_key. */
int rc_shard_families(struct rc_builder *b, recite_error *err);
/* Records a group of postings with one fingerprint (key) and its distinct families (sorted);
 * groups come in increasing key order. */
int rc_shard_df_group(rc_shard_build *sb, uint64_t key, uint64_t npostings,
                      const uint32_t *families, size_t nfamilies, recite_error *err);
/* Document frequency over the whole library (steps 5 and 6): the classes of the groups
 * recorded, patched into the key sections written (whose entries in sec are updated). */
int rc_shard_df_patch(struct rc_builder *b, rc_section_entry *sec, size_t nsec, recite_error *err);
/* A work of another shard (status RC_WORK_OTHER_SHARD): its id, claimed for uniqueness. */
int rc_shard_commit_other(struct rc_builder *b, const char *id, recite_error *err);
void rc_shard_build_free(rc_shard_build *sb);

typedef struct rc_work_rec {
    uint64_t str[RC_WS_COUNT_];
    uint32_t cluster;
    uint32_t unused;
} rc_work_rec;

/* A work that joined the cluster of an earlier one (identical text). */
typedef struct rc_dup {
    uint32_t cluster, work;
} rc_dup;

#define RC_BUILD_SPOOLS 12 /* the table spools of a build, each with spool_cap bytes of buffer */

typedef struct rc_builder {
    const recite_build_options *opt;
    unsigned kgram[RC_CHANNELS], window[RC_CHANNELS], jobs;
    uint64_t postings[RC_CHANNELS]; /* per channel, as committed */

    /* the memory budget and its shares (build_budget.c, docs/MEMORY.md) */
    uint64_t mem;               /* the budget */
    uint64_t inflight;          /* the workers and the works in flight */
    uint64_t worker_bytes;      /* a worker's own state */
    uint64_t lic_share;         /* license texts tokenized once for all workers */
    uint64_t load_max, loading; /* bytes of sources being loaded (mu) */
    uint64_t batch_hold;        /* bytes of works a batch holds uncommitted */
    uint64_t batch_bytes;       /* bytes of sources per batch */
    size_t spill;               /* bytes of a work's fingerprints and frames in memory */
    size_t spool_cap;           /* buffer of each table spool */
    uint64_t inputs_bytes;      /* the input list */
    size_t tables_seen;         /* capacity of the hash tables when last accounted */
    rc_inputs in;
    char *tmp_dir, *idx_path;
    int fd;

    /* work distribution */
    pthread_mutex_t mu;
    pthread_cond_t cond_done, cond_space;
    rc_batch *batches;
    size_t nbatches, next_batch, committed, max_inflight;
    bool stop;

    /* committed state (writer thread only): the tables stream to spools (build_spool.c) in
     * the order index_write.c writes them, so that memory does not grow with the library; in
     * memory stay the hash tables of ids and contents and the works that share a text */
    rc_spool clusters;    /* rc_cluster_rec per distinct text (member0: its first work) */
    rc_spool works;       /* rc_work_rec per work */
    rc_spool strings;     /* the STRINGS section */
    rc_spool cmi_data;    /* binary CMI records, in work order */
    rc_spool cmi_dir;     /* per work, u64: where its record starts in cmi_data */
    rc_spool checkpoints; /* the CHECKPOINTS section */
    rc_spool minhash;     /* per cluster: RC_MINHASH u32 and u32 usable (build_family.c) */
    rc_spool block_table; /* the TEXT_BLOCKS section but its first pair */
    rc_spool views;       /* rc_view_rec per code cluster with words (its view) */
    uint64_t nclusters, nviews, nworks, ncheckpoints;
    uint64_t block_raw, block_comp; /* ends of the text blocks so far */
    RC_VEC(rc_dup) dups;            /* works that joined an earlier work's cluster */
    uint32_t *family;               /* per cluster, after compute_families: the first cluster
                                       of its family of near-duplicates (in this file) */
    uint32_t *family_key;           /* a sharded build: per cluster, its family's name for document
                                       frequency, the library's number of the family's first work (the
                                       same in every shard); NULL: `family` names it */
    rc_slot_table ids, contents;
    rc_sorter sorter;
    rc_shard_build *shard; /* a shard of a sharded build, or NULL */
    uint64_t tokens_total, text_total, works_done, bytes_done;
    uint64_t work_bytes;   /* of the distinct texts (text_total counts the stored bytes) */
    rc_key key;            /* text-free: the key of the token hashes */
    unsigned common_texts; /* families holding a passage for it to be common language */
    bool text_free;

    recite_index *lic;             /* the license index built in the temporary directory, or NULL */
    rc_license_shared *lic_shared; /* its texts tokenized for the workers, while they run */

    /* locators (build_locators.c) */
    rc_spool loc_index; /* per work, u64: where its record ends in loc_data (after a 0) */
    rc_spool loc_data;
    rc_spool lines; /* per text block, u32: the lines before it in its text */

    /* text blocks */
    void *dict; /* zstd dictionary of the text, or NULL */
    size_t dict_len;
    ZSTD_CDict *cdict;
    rc_secw *text_w;

    double t0, last_progress;
} rc_builder;

/* Appends s (NUL-terminated) to the string table; *off receives its offset (0 for NULL: absent).
 * build.c. */
int rc_builder_add_string(rc_builder *b, const char *s, uint64_t *off, recite_error *err);

/* Copies a spool's bytes into a section being written (index_write.c). */
int rc_spool_copy(const rc_spool *s, rc_secw *w, recite_error *err);

/* Writes everything after the text blocks (dictionary, tables, postings, header), pads and syncs
 * recite.idx; *file_size receives its size (index_write.c). */
int rc_builder_write(rc_builder *b, uint64_t *file_size, recite_error *err);

/* ==== the memory budget (build_budget.c) ==== */

/* Shares the budget (b->mem, b->jobs and b->in set; b->jobs may be lowered). */
void rc_budget_plan(rc_builder *b);
/* What the sort may use now: the budget less the other shares and the tables so far. */
uint64_t rc_budget_sort_bytes(const rc_builder *b);
/* Gives the sorter its share again (after the tables grew). */
int rc_budget_update(rc_builder *b, recite_error *err);
/* A worker about to load a source of `bytes` waits for room in the loading share (b->mu
 * held); rc_budget_load_end gives back *bytes and zeroes it. */
void rc_budget_load_begin(rc_builder *b, uint64_t bytes);
void rc_budget_load_end(rc_builder *b, uint64_t *bytes);
/* Gives the pages of freed memory back to the system (glibc keeps them otherwise): called
 * between batches and phases. */
void rc_budget_trim(void);
/* After a batch is committed: rc_budget_trim once the process holds half the budget. */
void rc_budget_trim_batch(const rc_builder *b);

/* ==== locators (build_locators.c) ==== */

/* Records the locators of a committed work (its line table too when it starts a cluster). */
int rc_builder_add_locators(rc_builder *b, const rc_work_out *w, bool new_cluster,
                            recite_error *err);
/* Writes the sections LOC_INDEX, LOC_DATA and LINES at *off. */
int rc_builder_write_locators(rc_builder *b, rc_secw *w, rc_section_entry *sec, size_t *nsec,
                              uint64_t *off, recite_error *err);

/* ==== temporary directory and publish (build_publish.c) ==== */

/* An existing target must be an index or an empty directory before it is replaced. */
int rc_build_check_target(const char *dir, recite_error *err);
/* Removes what builds that died left beside dir, and makes a new temporary directory for this
 * build there (.BASE.tmp-PID-XXXXXX) in *out. */
int rc_build_tmp_dir(const char *dir, char **out, recite_error *err);
/* Removes a temporary build directory and what a build puts in it. */
void rc_build_remove_tmp(const char *tmp_dir);
/* Publishes the complete temporary directory at dir atomically (the old index there, if any,
 * is swapped out and removed; its catalogue is kept). */
int rc_build_publish(const char *tmp_dir, const char *dir, recite_error *err);

/* ==== compaction (build_compact.c) ==== */

/* The works of an existing index as the inputs of a build. */
int rc_inputs_from_index(rc_inputs *in, const recite_index *from, const char *dir,
                         const uint32_t *works, size_t nworks, recite_error *err);

/* The build of recite_index_build (paths) or of a compaction (from + works); with `shard`, the
 * build of one shard of a sharded index into shard->root (not published: build_shards.c). */
int rc_build_index(recite_build_stats *stats, const char *dir, const char *const *paths,
                   size_t npaths, const recite_index *from, const uint32_t *works, size_t nworks,
                   const recite_build_options *opt, rc_shard_build *shard, recite_error *err);

/* ==== committing works (build_commit.c) ==== */

/* Commits a loaded work (the calling thread, in input order): a note for a skipped one, else
 * its id claimed, its cluster (an earlier identical text's, or a new one with its text, view,
 * postings, checkpoints and signature), strings, locators and CMI record. */
int rc_builder_commit(struct rc_builder *b, const rc_source *src, rc_work_out *w,
                      recite_error *err);
/* Families of near-duplicates once every work is committed (b->family; a shard's over the
 * library), and the common threshold (b->common_texts). */
int rc_builder_families(struct rc_builder *b, recite_error *err);
void rc_builder_table_free(rc_slot_table *t);
/* Whether a work id was committed already: *taken. Reading the ids back from their spool may
 * fail (RECITE_EIO, RECITE_ENOMEM). */
int rc_builder_id_taken(struct rc_builder *b, const char *id, bool *taken, recite_error *err);
/* Records a new work id as taken by `val` (a work number, or RC_OTHER_ID | i). */
int rc_builder_claim_id(struct rc_builder *b, const char *id, uint32_t val);
#define RC_OTHER_ID 0x80000000u

/* The checksum of every page of the file from RC_DATA_OFFSET to *off (read back from fd), as
 * the section PAGE_SUMS appended at *off (index_write.c). */
int rc_write_page_sums(int fd, const char *path, rc_secw *w, rc_section_entry *sec, size_t *nsec,
                       uint64_t *off, recite_error *err);

#endif /* RC_BUILDER_H */
