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
    uint32_t family; /* first cluster of its family of near-duplicates */
} rc_cluster_rec;

typedef struct rc_view_rec {
    uint32_t cluster;
    uint64_t text_offset, token_base, ntokens, checkpoint0;
} rc_view_rec;

typedef struct rc_work_rec {
    uint64_t str[RC_WS_COUNT_];
    uint32_t cluster;
} rc_work_rec;

typedef struct rc_builder {
    const recite_build_options *opt;
    unsigned kgram[RC_CHANNELS], window[RC_CHANNELS], jobs;
    uint64_t mem;                   /* the memory budget */
    uint64_t postings[RC_CHANNELS]; /* per channel, as committed */
    rc_inputs in;
    char *tmp_dir, *idx_path;
    int fd;

    /* work distribution */
    pthread_mutex_t mu;
    pthread_cond_t cond_done, cond_space;
    rc_batch *batches;
    size_t nbatches, next_batch, committed, max_inflight;
    bool stop;

    /* committed state (writer thread only) */
    RC_VEC(rc_cluster_rec) clusters;
    RC_VEC(rc_view_rec) views; /* the words of code clusters */
    RC_VEC(rc_work_rec) works;
    RC_VEC(uint8_t) strings;
    RC_VEC(uint8_t) cmi_data; /* binary CMI records, in work order */
    RC_VEC(uint64_t) cmi_dir; /* per work, where its record starts in cmi_data */
    RC_VEC(uint32_t) checkpoints;
    RC_VEC(uint32_t) minhash; /* RC_MINHASH per cluster */
    RC_VEC(bool) minhash_usable;
    rc_slot_table ids, contents;
    rc_sorter sorter;
    uint64_t tokens_total, text_total, works_done, bytes_done;
    uint64_t work_bytes;   /* of the distinct texts (text_total counts the stored bytes) */
    rc_key key;            /* text-free: the key of the token hashes */
    unsigned common_texts; /* families holding a passage for it to be common language */
    bool text_free;

    recite_index *lic; /* the license index built in the temporary directory, or NULL */

    /* locators (build_locators.c) */
    RC_VEC(uint64_t) loc_index; /* per work, its record's offset in loc_data (+ the end) */
    RC_VEC(uint8_t) loc_data;
    RC_VEC(uint32_t) lines; /* per text block, the lines before it in its text */

    /* text blocks */
    void *dict; /* zstd dictionary of the text, or NULL */
    size_t dict_len;
    ZSTD_CDict *cdict;
    RC_VEC(uint64_t) block_table; /* raw, compressed offset pairs */
    rc_secw *text_w;

    double t0, last_progress;
} rc_builder;

/* Appends s (NUL-terminated) to the string table; *off receives its offset (0 for NULL: absent).
 * build.c. */
int rc_builder_add_string(rc_builder *b, const char *s, uint64_t *off);

/* Writes everything after the text blocks (dictionary, tables, postings, header), pads and syncs
 * recite.idx; *file_size receives its size (index_write.c). */
int rc_builder_write(rc_builder *b, uint64_t *file_size, recite_error *err);

/* ==== locators (build_locators.c) ==== */

/* Records the locators of a committed work (its line table too when it starts a cluster). */
int rc_builder_add_locators(rc_builder *b, const rc_work_out *w, bool new_cluster);
/* Writes the sections LOC_INDEX, LOC_DATA and LINES at *off. */
int rc_builder_write_locators(rc_builder *b, rc_secw *w, rc_section_entry *sec, size_t *nsec,
                              uint64_t *off, recite_error *err);
void rc_builder_free_locators(rc_builder *b);

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

/* The build of recite_index_build (paths) or of a compaction (from + works). */
int rc_build_index(recite_build_stats *stats, const char *dir, const char *const *paths,
                   size_t npaths, const recite_index *from, const uint32_t *works, size_t nworks,
                   const recite_build_options *opt, recite_error *err);

#endif /* RC_BUILDER_H */
