/*
 * recite.h — the public C API of recite, a recitation checker.
 *
 * recite holds an immutable index of protected works (prose and source code) and tells, for a
 * piece of text (typically language-model output), which spans reproduce which work, where, and
 * how closely. This is the only public header: the `recite` command and every binding use it.
 *
 * Conventions (see STYLE.md): functions return a recite_status (RECITE_OK == 0, errors < 0) and
 * take an optional caller-owned recite_error, always last, for a one-line message. What a
 * function produces comes first (`out`, then any further outputs), the object it acts on next.
 * Option structs start with a version: RECITE_<X>_OPTIONS_INIT sets it and nothing else, and a
 * zero field means the documented default; the version goes up whenever a struct grows, and a
 * struct of another version is refused with RECITE_EINVAL. The library never prints, never exits,
 * never aborts on bad input, reads no environment variable and writes no file it was not asked
 * to (directories for caches and data come in through options). A loaded recite_index is
 * immutable and may be shared by any number of threads; a recite_checker is mutable and belongs
 * to one thread at a time.
 */
#ifndef RECITE_H
#define RECITE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RECITE_VERSION_MAJOR 0
#define RECITE_VERSION_MINOR 1
#define RECITE_VERSION_PATCH 0
#define RECITE_VERSION_STRING "0.1.0"

/* ==== errors ==== */

typedef enum {
    RECITE_OK = 0,
    RECITE_ENOMEM = -1,   /* out of memory */
    RECITE_EIO = -2,      /* a file could not be read or written */
    RECITE_EFORMAT = -3,  /* malformed input or corrupt index */
    RECITE_EVERSION = -4, /* index written by an incompatible format version */
    RECITE_EINVAL = -5,   /* invalid argument or option */
    RECITE_ELIMIT = -6,   /* a documented size limit was exceeded */
    RECITE_EEMPTY = -7,   /* nothing to do: no works were found in the inputs */
    RECITE_EKEY = -8,     /* a text-free index: its key is missing or wrong */
    RECITE_ENOTEXT = -9   /* a text-free index stores no text of its works */
} recite_status;

/* Caller-owned error detail. Functions that take one fill it when they fail (and leave it alone
 * on success). `message` is a single line without a trailing newline, naming the file (and line,
 * for JSONL) concerned. */
typedef struct recite_error {
    int code;
    char message[512];
} recite_error;

/* Static text for a status code; never NULL. Thread-safe. */
const char *recite_strerror(int code);

/* The library version, e.g. "0.1.0". Thread-safe. */
const char *recite_version(void);

/* ==== tokenization modes ==== */

typedef enum {
    RECITE_MODE_AUTO = 0,  /* by file extension (JSONL: a "mode" field, else the id's) */
    RECITE_MODE_PROSE = 1, /* words; normalization of case, Unicode, quotes, dashes, ... */
    RECITE_MODE_CODE = 2   /* lexemes of source code; shapes for renamed copies */
} recite_mode;

/* Where a work's license or copyright notice was found. */
typedef enum {
    RECITE_FROM_NONE = 0,
    RECITE_FROM_METADATA, /* given in the JSONL metadata (wins over what the text says) */
    RECITE_FROM_SPDX,     /* an SPDX-License-Identifier tag in the text */
    RECITE_FROM_HEADER,   /* identified from the license notice in the work's header */
    RECITE_FROM_TEXT      /* the work is (mostly) the license text itself */
} recite_info_source;

/* "none", "metadata", "spdx", "header" or "text"; never NULL. Thread-safe. */
const char *recite_info_source_name(recite_info_source from);

/* Where the license texts that identification matches against are looked for when the options
 * name no directory: Debian's common licenses and the SPDX license list as scripts/deps.sh
 * installs it (the npm package spdx-license-list). */
#define RECITE_DEFAULT_DEBIAN_LICENSES "/usr/share/common-licenses"
#define RECITE_DEFAULT_SPDX_DIR "/usr/local/share/recite/spdx-license-list/licenses"

/* ==== building an index ==== */

typedef struct recite_build_progress {
    uint64_t works_done, works_total;
    uint64_t bytes_done, bytes_total;
    double seconds; /* since the build started */
} recite_build_progress;

/* Kinds of notes the builder reports about individual inputs (the build goes on). */
typedef enum {
    RECITE_NOTE_SKIPPED_HIDDEN = 1,
    RECITE_NOTE_SKIPPED_BINARY = 2,
    RECITE_NOTE_SKIPPED_EMPTY = 3,
    RECITE_NOTE_SKIPPED_SPECIAL = 4,   /* not a regular file or directory */
    RECITE_NOTE_INVALID_UTF8 = 5,      /* indexed; invalid bytes decoded as Windows-1252 */
    RECITE_NOTE_DUPLICATE = 6,         /* identical to an earlier work; clustered with it */
    RECITE_NOTE_SKIPPED_UNREADABLE = 7 /* a document or archive (or a member of one) that could
                                          not be read: corrupt, encrypted, a PDF without a text
                                          layer, over an extraction limit; or a file or directory
                                          met in a directory that may not be read (permissions).
                                          The detail says which. The build goes on (`recite
                                          index` then exits 3) */
} recite_note_kind;

#define RECITE_BUILD_OPTIONS_VERSION 4

typedef struct recite_build_options {
    unsigned version; /* RECITE_BUILD_OPTIONS_VERSION */

    /* What the index holds */
    recite_mode mode;         /* 0 = RECITE_MODE_AUTO: code by file extension, prose otherwise;
                                 a JSONL "mode" field wins over this */
    unsigned min_tokens;      /* guaranteed detection length of prose, in words; 0 = 12 */
    unsigned code_min_tokens; /* the same for code, in lexemes (renamed copies: exact ones are
                                 found by their words from min_tokens words too); 0 = 40 */
    int skip_cmi;             /* no CMI extraction or license identification (and no license
                                 index in DIR/licenses) */
    /* Text-free index: when not NULL, the works' text is not stored, only keyed hashes of their
     * tokens and the tokens' offsets; the key is made from these bytes (at least 16, e.g. a file
     * of random bytes) and is needed to check against the index (recite_index_open_keyed). */
    const void *text_free_key;
    size_t text_free_key_len;
    uint64_t created_unix; /* time stamp recorded in the index; 0 = now. With the same inputs
                              and time stamp, builds are byte-identical whatever jobs and mem */
    unsigned common_texts; /* a passage held by this many families of texts (a text and its
                              near-duplicates) is common language; 0 = relative to the
                              library: 1% of its families, at least 8, at most 64 */

    /* License texts for CMI (unused with skip_cmi) */
    const char *license_cache_dir;   /* a directory where the license index built from them is
                                        kept for the next build (created if missing); NULL = none:
                                        it is built for every index */
    const char *debian_licenses_dir; /* NULL = RECITE_DEFAULT_DEBIAN_LICENSES */
    const char *spdx_dir;            /* NULL = RECITE_DEFAULT_SPDX_DIR */

    /* Documents and archives. Inputs are recognized by content: archives (tar, plain or
     * compressed, zip, 7z, cpio, ar, single compressed files) give one work per member (id
     * ARCHIVE!MEMBER), EPUB, PDF and HTML files one work each, with locators (pages, chapters,
     * members, lines: recite_index_locate). */
    unsigned archive_depth; /* archives inside archives that are opened; 0 = 4 */
    uint64_t max_expanded;  /* bytes extracted from one input file, every level counted; 0 =
                               16 GiB: beyond it extraction stops with a note (what was read
                               before stays indexed) */
    unsigned max_ratio;     /* the same when an input expands to more than max_ratio times its
                               size (checked beyond 16 MiB): zip bombs; 0 = 200 */
    /* Git repositories, each "REPO[@REV]" (REV: a commit, branch or tag; default HEAD): the
     * files of that commit's tree, work ids REPO@REV:PATH, with the repository's url and
     * commit as metadata and its LICENSE/COPYING as the license of files stating none. */
    const char *const *git;
    size_t ngit;

    /* Resources */
    unsigned jobs; /* worker threads; 0 = number of online CPUs (fewer when mem_budget cannot
                      hold that many: 4 MiB each) */
    /* Bytes of memory the build may use, at least 16 MiB; 0 = 1 GiB. The process stays within
     * it plus a fixed allowance (32 MB, mostly the program and its libraries), except for the
     * text of the work being processed, held whole (docs/MEMORY.md). */
    uint64_t mem_budget;
    const char *tmp_dir; /* where spill files go; NULL = next to the output directory */

    /* Callbacks */
    /* Called from the building thread about twice a second; may be NULL. */
    void (*progress)(const recite_build_progress *p, void *user);
    /* Called for each input that is skipped or flagged; may be NULL. */
    void (*note)(recite_note_kind kind, const char *path, const char *detail, void *user);
    void *user;
} recite_build_options;

#define RECITE_BUILD_OPTIONS_INIT                                                                  \
    {                                                                                              \
        .version = RECITE_BUILD_OPTIONS_VERSION                                                    \
    }

typedef struct recite_build_stats {
    uint64_t works;        /* work ids in the index */
    uint64_t clusters;     /* distinct texts */
    uint64_t bytes;        /* bytes of distinct text */
    uint64_t tokens;       /* tokens of distinct text */
    uint64_t fingerprints; /* postings */
    uint64_t index_bytes;  /* size of the published index */
    uint64_t spill_runs;   /* sorted runs written to disk (0 = fitted in memory) */
    uint64_t peak_sort_bytes;
    uint64_t works_dropped; /* compaction: deleted works left out */
    double seconds;
} recite_build_stats;

/* Builds an index of the works found under `paths` (files, directories, .jsonl files; archives
 * and documents among them are extracted; opt->git adds repositories) and
 * publishes it atomically at `dir` (an existing index there is replaced only once the new one
 * is complete and synced). `out` (may be NULL) receives figures of the build; `opt` may be NULL
 * (defaults). Not reentrant with itself on the same dir. Returns RECITE_OK, or an error with
 * `err` filled. */
int recite_index_build(recite_build_stats *out, const char *dir, const char *const *paths,
                       size_t npaths, const recite_build_options *opt, recite_error *err);

/* ==== sharded indexes (docs/FORMAT.md "Sharded indexes", docs/SCALE.md) ====
 * A sharded index is a directory holding a head (DIR/recite.idx: the shard list with checksums,
 * the library's parameters and its numbering of works) and N shards (DIR/shard-NNNN/), each an
 * index of the works whose text hashes to it (identical texts land together). What depends on
 * the whole library is computed over the whole library: families of near-duplicates and document
 * frequency (common language), the license index (DIR/licenses), the catalogue. It opens with
 * recite_index_open like any index, and a check gives exactly the result one index of the same
 * library gives (unless a limit sets `truncated`). */

/* The collectives a distributed build exchanges its global statistics with (MPI in the
 * `recite` command; the library does not depend on MPI). Every participant calls them in the
 * same order. Each returns RECITE_OK with a malloc'd buffer in *out (the caller frees it), or an
 * error code on every participant. */
typedef struct recite_comm {
    unsigned rank, size; /* this participant, and how many there are */
    /* Each participant gives send[0, len); each receives all of them, concatenated in rank
     * order, with lens[r] (size entries) the bytes of participant r. */
    int (*allgather)(void *user, const void *send, size_t len, void **out, size_t *lens);
    /* Each participant gives `size` parts, send_lens[d] bytes for participant d, one after
     * another in send; each receives the parts for it, concatenated in rank order of their
     * senders, recv_lens[r] bytes from participant r. */
    int (*alltoall)(void *user, const void *send, const size_t *send_lens, void **out,
                    size_t *recv_lens);
    void *user;
} recite_comm;

/* Builds a sharded index of `shards` shards (1-4096) at `dir`, like recite_index_build (same
 * inputs, options and atomic publish). With comm NULL the shards are built in this process, in
 * parallel threads (opt->jobs shared among them). With comm, this process is participant
 * comm->rank of comm->size (which must equal `shards`) and builds shard comm->rank: every
 * participant is called with the same arguments, reads every input (it indexes its shard's
 * works and counts the others'), and exchanges families and document frequency with the others
 * through comm; participant 0 writes the head and publishes the whole directory once every
 * shard is written and verified (any participant's failure fails the build on all, and nothing
 * is published). `out` receives the figures of the whole index on every participant. The
 * directory must be on a file system every participant writes to. */
int recite_index_build_sharded(recite_build_stats *out, const char *dir, const char *const *paths,
                               size_t npaths, unsigned shards, const recite_comm *comm,
                               const recite_build_options *opt, recite_error *err);

/* Compaction: rebuilds the index at `dir` from its own stored texts without the works whose
 * ids are in drop[0, ndrop) (deleted works: their text, fingerprints and every trace in the
 * compression dictionary are gone afterwards). Works keep their ids, metadata, modes and
 * offsets; the guarantees (min_tokens) stay the index's; opt gives jobs, memory and the like
 * (NULL: defaults). The new index is published atomically like any build. `out` (may be NULL)
 * receives its figures, out->works_dropped how many works were left out; when none of drop is
 * in the index, nothing is rebuilt (works_dropped = 0). RECITE_ENOTEXT for a text-free index. */
int recite_index_compact(recite_build_stats *out, const char *dir, const char *const *drop,
                         size_t ndrop, const recite_build_options *opt, recite_error *err);

/* ==== a loaded index ==== */

typedef struct recite_index recite_index;

/* Opens (memory-maps) the index at `dir` and validates its structure in constant time (well
 * under a millisecond whatever its size): magic, format and tokenizer versions, the header's
 * checksum, section bounds and sizes. The sections' checksums are not read (that would read the
 * whole file): every record is checked where a read uses it, so a damaged index gives
 * RECITE_EFORMAT ("corrupt index") then, never a crash; recite_index_verify checks everything
 * at once. The result is immutable and thread-safe; close it with recite_index_close. */
int recite_index_open(recite_index **out, const char *dir, recite_error *err);

/* Verifies an open index completely: the checksum of every section and every cross-reference
 * of its tables (clusters tiling the text and tokens, checkpoints, members, strings, text
 * blocks, postings), its license index included. Reads the whole file (about a second per GB
 * when it is not cached). RECITE_OK, or RECITE_EFORMAT naming the first problem. `recite
 * verify`, compaction (before trusting its source) and every build (before publishing) run it.
 * Thread-safe. */
int recite_index_verify(const recite_index *idx, recite_error *err);

/* Opens a text-free index with its key (the bytes it was built with): RECITE_EKEY when the key
 * is not the index's. Checking against a text-free index needs it; recite_index_open alone
 * allows everything else (stats, works, catalogue). Also opens an ordinary index (the key is
 * then ignored). */
int recite_index_open_keyed(recite_index **out, const char *dir, const void *key, size_t key_len,
                            recite_error *err);

#define RECITE_KEY_MIN_BYTES 16   /* a text-free index's key: at least this many bytes */
#define RECITE_KEY_MAX_BYTES 4096 /* and, read from a file (recite_key_read), at most this many */

/* Reads the key of a text-free index from the file at `path` (the FILE of `recite index
 * --text-free --key`, `recite check --key` and `recite serve --key`): all its bytes, which must
 * number RECITE_KEY_MIN_BYTES to RECITE_KEY_MAX_BYTES, into a new malloc'd buffer *out (not
 * NUL-terminated; caller frees) of *len bytes. The file is opened without blocking and must be
 * a regular file: a FIFO is refused at once, not waited on. On failure *out is NULL, *len 0 and
 * err's message names the path: RECITE_EIO "PATH: cannot read the key: WHY" (WHY: strerror of
 * the open or read, "a directory, not a file" or "not a regular file"); RECITE_EINVAL "PATH: key
 * too short: at least 16 bytes (head -c 32 /dev/urandom >FILE)" or "PATH: key too long: at most
 * 4096 bytes"; RECITE_ENOMEM. Thread-safe. */
int recite_key_read(char **out, size_t *len, const char *path, recite_error *err);

/* Opens part `part` of `nparts` of the sharded index at `dir`, for a distributed check
 * (recite_check_distributed): its head and only the shards s with s % nparts == part (none when
 * part >= the shards). Works, clusters and tokens keep the whole library's numbers; stats count
 * the open shards' bytes; works in other shards are known to recite_index_work, _locate and
 * _cluster_members only as far as the last distributed check brought them (the works its result
 * names), and have no text here. Ordinary checks (recite_check_text, feed, poll) of a part are
 * refused (RECITE_EINVAL); with nparts 1 every shard is open. An ordinary index (not sharded)
 * is opened whole (stats.shards 0). key: as recite_index_open_keyed (NULL when not text-free). */
int recite_index_open_part(recite_index **out, const char *dir, const void *key, size_t key_len,
                           unsigned part, unsigned nparts, recite_error *err);

/* Makes an open index's lookup caches now: the filters of its posting keys, which a process
 * otherwise makes once its checks have done enough lookups to pay for them (src/index/
 * index_filter.c: about 10 ns a posting, once, so 0.3-0.4 s for a 1 GB library; 13-26 bits of
 * memory a posting, docs/MEMORY.md). For a long-running server, before its first request, so
 * that no request waits for them (`recite serve` does). Best effort: a filter that cannot be
 * made (memory) leaves its lookups as they were. Thread-safe; changes no result. */
void recite_index_prepare(const recite_index *idx);

/* Releases an index; accepts NULL. Free the checkers created from it first (a checker gives
 * its store reader back to its index when freed); none may be used afterwards. */
void recite_index_close(recite_index *idx);

typedef struct recite_index_stats {
    uint32_t format_version;
    uint64_t works, clusters, tokens, text_bytes, fingerprints;
    unsigned kgram, window, min_tokens; /* prose: min_tokens = kgram + window - 1, the guarantee */
    uint64_t code_fingerprints, shape_fingerprints;    /* postings of code works: lexemes, shapes */
    unsigned code_kgram, code_window, code_min_tokens; /* the same for code (in lexemes) */
    uint64_t created_unix;
    uint64_t bytes_total;       /* size of the index file */
    uint64_t bytes_postings;    /* fingerprint table */
    uint64_t bytes_text;        /* compressed text blocks */
    uint64_t bytes_works;       /* work table, ids and metadata */
    uint64_t bytes_checkpoints; /* token-to-byte checkpoints */
    uint64_t text_blocks, text_block_size;
    int text_free; /* no text stored: bytes_text holds token records (keyed hashes, offsets) */
    unsigned common_texts; /* families holding a passage for it to be common language */
    uint32_t shards;       /* a sharded index: its shards (the byte counts are their sums); 0 for
                              an ordinary index */
} recite_index_stats;

void recite_index_get_stats(recite_index_stats *out, const recite_index *idx);

/* One work, as given to the index. Strings point into the index and live as long as it;
 * metadata fields are NULL when absent. */
typedef struct recite_work_info {
    const char *id;
    const char *title, *author, *license, *copyright, *source, *url;
    const char *metadata_json; /* every metadata field given in JSONL, as a JSON object, or NULL */
    const char *cmi_json;      /* CMI found in the text, as a JSON object, or NULL: "notices"
                                  [{text, holder, years, start, end}], "spdx", "license" {id,
                                  score, from}, "rights_reserved", "title", "author" */
    uint64_t bytes;            /* length of the work's text */
    uint64_t tokens;
    uint32_t cluster;         /* works with identical text share a cluster */
    uint32_t representative;  /* the cluster's first work (whose text is stored) */
    recite_mode mode;         /* RECITE_MODE_PROSE (tokens are words) or _CODE (lexemes) */
    const char *content_hash; /* XXH3-128 of the text as 32 hex digits (high 64 bits first);
                                 NULL in a text-free index */
} recite_work_info;

uint32_t recite_index_work_count(const recite_index *idx);
int recite_index_work(recite_work_info *out, const recite_index *idx, uint32_t work);
/* Works of a cluster, in index order; `*count` receives how many. The pointer lives with idx.
 * NULL (and 0) for a cluster that does not exist or whose list is damaged. */
const uint32_t *recite_index_cluster_members(const recite_index *idx, uint32_t cluster,
                                             uint32_t *count);

/* Where a byte offset of a work's text is in the original the work was extracted from. */
typedef struct recite_locator {
    uint64_t line;             /* 1-based line of the offset in the work's text; 0 when not
                                  known (text-free indexes keep no text to count lines in) */
    uint32_t page;             /* PDF: the 1-based page holding the offset; 0 for other works */
    uint32_t pages;            /* PDF: pages of the document */
    uint32_t chapter;          /* EPUB: the 1-based spine item (chapter) holding it; 0 none */
    const char *chapter_title; /* EPUB: its title from the table of contents or its first
                                  heading; NULL when none */
    const char *chapter_name;  /* EPUB: its file inside the book; NULL when none */
    const char *member;        /* the work's path inside the archive it came from (nested
                                  archives: "b.zip!c.txt"); NULL when not from an archive */
} recite_locator;

/* Fills *out with the locator of byte `offset` of work `work` (offsets past the end are taken
 * as the end). Strings point into the index. RECITE_EINVAL for an unknown work. Thread-safe. */
int recite_index_locate(recite_locator *out, const recite_index *idx, uint32_t work,
                        uint64_t offset, recite_error *err);

/* Copies bytes [start, end) of a work's text into a new malloc'd buffer (caller frees) that is
 * NUL-terminated; `*len` receives end - start. Thread-safe. RECITE_ENOTEXT for a text-free
 * index. */
int recite_index_work_text(char **out, size_t *len, const recite_index *idx, uint32_t work,
                           uint64_t start, uint64_t end, recite_error *err);

/* ==== checking text ==== */

typedef enum {
    RECITE_KIND_EXACT = 0,      /* identical bytes */
    RECITE_KIND_NORMALIZED = 1, /* identical after normalization */
    RECITE_KIND_NEAR = 2        /* edit-tolerant: a few words differ, or only punctuation */
} recite_kind;

typedef struct recite_match {
    uint32_t work;               /* representative work of the cluster */
    uint64_t out_start, out_end; /* byte offsets in the checked text, end exclusive */
    uint64_t src_start, src_end; /* byte offsets in the work's text, end exclusive */
    uint64_t src_token;          /* index of the first matched token in the work */
    uint32_t tokens;             /* matched tokens of the checked text */
    recite_kind kind;
    double similarity; /* 1.0 for exact and normalized */
    int common;        /* common language: it holds k-grams of common_texts or more
                          distinct texts of the index (recite_index_stats) and, for words, no
                          stretch of min_tokens held by fewer than 8 (for code: 80% of its
                          k-grams are common); and the output does not reproduce most of the
                          work (coverage < 0.5) */
    recite_mode unit;  /* what `tokens` and `src_token` count: RECITE_MODE_PROSE words (of a
                          prose work, or of a code work found by its words: comments, short
                          code), RECITE_MODE_CODE lexemes */
    /* Common language is reported once per passage: the matches of the works sampled for one
     * passage (the same output bytes) have `passage` = the index in matches[] of the first of
     * them, and `shared_by` estimates how many works hold it (at least those sampled). Other
     * matches (and every match with all_works) are their own passage, shared_by 0. */
    uint32_t passage;
    uint32_t shared_by;
} recite_match;

typedef enum {
    RECITE_CMI_UNKNOWN = 0, /* the index was built without CMI (skip_cmi) */
    RECITE_CMI_NONE,        /* the work carries no copyright notice or license */
    RECITE_CMI_PRESENT,     /* the output carries the work's notice (or license) */
    RECITE_CMI_ABSENT,      /* the output reproduces the work without its notice */
    RECITE_CMI_ALTERED      /* the output shows a different notice, holder, years or license */
} recite_cmi_verdict;

typedef struct recite_work_hit {
    uint32_t work;           /* representative work */
    uint32_t matches;        /* separate spans reported for it */
    uint64_t tokens_covered; /* distinct tokens of the work covered by the spans */
    uint32_t longest_tokens;
    double coverage;   /* tokens_covered / work tokens */
    int common;        /* every span reported for it is common language */
    double similarity; /* of its spans, weighted by their tokens: 1.0 when all are exact or
                          normalized */
    double score;      /* how well the work explains the output: its spans' tokens, those of
                          near spans discounted by similarity^10 (0.99: 0.90, 0.9: 0.35) —
                          of two versions of a text, the one the output reproduces best
                          comes first */
    /* Copyright-management information */
    recite_cmi_verdict cmi;
    char license[64];     /* SPDX id: from the metadata, else identified; "" unknown */
    double license_score; /* share of the header's words that are the license's */
    recite_info_source license_from;
    char copyright[256]; /* the work's notice: metadata, else its first notice */
    recite_info_source copyright_from;
    char cmi_found[256]; /* the notice (or license) found in the output, "" none */
    uint64_t cmi_found_start, cmi_found_end; /* its bytes in the output */
} recite_work_hit;

typedef struct recite_result {
    uint64_t tokens; /* tokens of the checked text */
    uint64_t bytes;
    const recite_match *matches; /* sorted by out_start, then work */
    size_t nmatches;
    const recite_work_hit *works; /* one per matched work: specific before common language,
                                     then by decreasing score, then tokens_covered */
    size_t nworks;
    int truncated;          /* a limit was hit; the result may be incomplete */
    uint64_t invalid_utf8;  /* bytes that were not valid UTF-8 */
    uint64_t common_others; /* further works that share only common language with the text:
                               counted, not itemized (a few such works are itemized) */
    uint64_t code_tokens;   /* lexemes of the checked text (when the index holds code) */
    int text_free;          /* the index stores no text: source offsets are exact, but the
                               works' text cannot be quoted */
} recite_result;

#define RECITE_CHECK_OPTIONS_VERSION 2

typedef struct recite_check_options {
    unsigned version; /* RECITE_CHECK_OPTIONS_VERSION */

    /* What is reported */
    unsigned min_tokens;      /* 0 = the index's guarantee; below it is refused (RECITE_EINVAL) */
    unsigned code_min_tokens; /* the same for code, in lexemes */
    int exact_only;           /* report exact and normalized spans only (no near-verbatim) */
    double min_similarity;    /* 0 = 0.8: of near-verbatim spans, matched tokens over the tokens
                                 of the longer side */

    /* Attribution of common language */
    int all_works;          /* itemize every work sharing a span, common language included:
                               complete attribution for audits, at a cost in time */
    uint32_t common_sample; /* 0 = 3: works itemized per passage of common language (max 255) */
    const recite_index *background; /* NULL, or an index of public text: a span that also
                                       occurs there (80% of its bytes) is common language */
    int skip_cmi; /* no CMI verdicts, licenses or notices in works[] (cmi unknown): spares
                     the license check of the text, for callers that do not need them */

    /* Limits (reaching one sets `truncated`) */
    uint32_t max_matches;    /* 0 = 10000 */
    uint32_t max_postings;   /* 0 = 100000 seeds per check, shared evenly by the index's
                                channels (words; and lexemes and shapes if it holds code) */
    uint32_t max_candidates; /* 0 = 1000 works verified per check (those with the fewest seeds
                                are dropped) */
} recite_check_options;

#define RECITE_CHECK_OPTIONS_INIT                                                                  \
    {                                                                                              \
        .version = RECITE_CHECK_OPTIONS_VERSION                                                    \
    }

typedef struct recite_checker recite_checker;

/* Creates a checker over `idx` (which must outlive it); `opt` may be NULL (defaults). One
 * checker per thread. */
int recite_checker_create(recite_checker **out, const recite_index *idx,
                          const recite_check_options *opt, recite_error *err);
void recite_checker_free(recite_checker *c);

/* Streaming: feed text in any pieces (UTF-8 may be split anywhere), then finish. Tokens are
 * produced and looked up as they become complete. The result stays valid until the next feed,
 * reset, check or free. `finish` resets the stream for the next text. */
int recite_checker_feed(recite_checker *c, const char *bytes, size_t len, recite_error *err);
int recite_checker_finish(const recite_result **out, recite_checker *c, recite_error *err);
void recite_checker_reset(recite_checker *c);

/* Batch: the same as one feed of the whole text followed by finish. */
int recite_check_text(const recite_result **out, recite_checker *c, const char *text, size_t len,
                      recite_error *err);

/* The text fed since the last reset (what the offsets of a result refer to). */
const char *recite_checker_text(const recite_checker *c, size_t *len);

/* A check of `text` against a sharded index spread over the participants of comm (MPI ranks in
 * the `recite` command; the library does not depend on MPI): participant r calls it with the
 * same text and a checker over part r of comm->size (recite_index_open_part). Each looks the
 * text's k-grams up in its shards and verifies the candidates in them; their lookups and runs
 * are exchanged (allgather) and taken together as a check of the whole index takes its shards',
 * so the result is recite_check_text's over the index opened whole, field by field (limits and
 * `truncated` included). Participant 0 gets it complete — CMI verdicts, the background index's
 * common language, and the works it names readable through its index for a report (until its
 * next distributed check); the others get its matches and works without CMI. Every participant
 * calls it the same number of times in the same order; a failure on one fails the check on all
 * (none waits for another). RECITE_EINVAL when the index is not sharded or not opened as part
 * comm->rank of comm->size. */
int recite_check_distributed(const recite_result **out, recite_checker *c, const recite_comm *comm,
                             const char *text, size_t len, recite_error *err);

/* ==== streaming verdicts ====
 * During a stream, recite_checker_poll tells what is already certain: the spans found since the
 * previous poll and the part of the text that is cleared.
 *
 * The leak bound. Every span of at least min_tokens tokens that reproduces a work (exactly or
 * normalized; not common language; for words, min_tokens of them on lines other than include
 * and import lines) and starts before `cleared` has been reported by an event.
 * `cleared` trails the complete tokens fed by at most recite_checker_leak_bound() tokens: for
 * an index built with the defaults, 14 words of prose (min_tokens 12 + 3 of context - 1) and 54
 * lexemes of code (40 + 15 - 1). So a caller that releases text only up to `cleared`, and stops
 * (or redacts) when an event's span is one it must not release, never releases recited text.
 * (Tokens complete once the text has them; after a construct that stayed open for more than 256
 * bytes — an unclosed comment or string — the text is tokenized again only every 1/16 of its
 * length, so that small feeds stay linear: `cleared` and `tokens` may lag that much more.)
 * The bound does not hold when `truncated` is set (a limit was reached: treat the rest as
 * unchecked). Near-verbatim spans (alignment across edits) and common language are reported
 * by recite_checker_finish only; after the last piece, finish gives exactly the result of a
 * batch check of the whole text, whatever the polls before it. */

typedef struct recite_span_event {
    uint32_t span;      /* the span's number in this stream (0, 1, ...); a later event with the
                           same number reports the same span grown */
    recite_match match; /* the span so far: work, offsets, tokens, kind */
    int growing;        /* it reaches the last token checked: it may grow with more text */
} recite_span_event;

typedef struct recite_poll {
    const recite_span_event *events; /* spans new, grown, or no longer growing since the
                                        previous poll */
    size_t nevents;
    /* Every span reported so far and its works (coverage, longest span, CMI as of when the
     * work was first found): what recite_policy_decide needs for a verdict so far. Its
     * `truncated` is the poll's. */
    const recite_result *so_far;
    uint64_t cleared; /* bytes [0, cleared) of the text are settled (see the leak bound) */
    uint64_t tokens;  /* complete tokens fed so far */
    int truncated;    /* a limit was reached: the leak bound no longer holds */
} recite_poll;

/* Reports what the text fed so far settles (see above). The pointers in *out stay valid until
 * the next feed, poll, finish, reset or free. After finish (and before the next feed) it
 * reports the final result: no events, everything cleared. Cost: proportional to the new seeds
 * and to the spans still growing, so polling after every piece is fine. */
int recite_checker_poll(recite_poll *out, recite_checker *c, recite_error *err);

/* The leak bound of a checker for tokens of `mode` (RECITE_MODE_PROSE: words, _CODE: lexemes;
 * 0 when the index holds no works of that mode): how many complete tokens `cleared` trails the
 * text at most. */
unsigned recite_checker_leak_bound(const recite_checker *c, recite_mode mode);

/* ==== license identification (src/license/) ====
 * The license and copyright notices of one text, exactly as `recite index` records them for a
 * work (its cmi_json): an SPDX-License-Identifier tag first, else the license its header states
 * or is, identified against the license texts of this machine. */

#define RECITE_LICENSE_MAX_NOTICES 16

typedef struct recite_license_info {
    char license[64];        /* SPDX id (a tag's expression); "" when unknown */
    double score;            /* share of the header's words that are the license's; 1.0 for a tag */
    recite_info_source from; /* RECITE_FROM_SPDX, _HEADER or _TEXT; RECITE_FROM_NONE unknown */
    int full_text;           /* the text is the license itself, not a notice pointing to it */
    char spdx_tag[128];      /* the SPDX-License-Identifier expression, "" when none */
    unsigned ncopyright;
    char copyright[RECITE_LICENSE_MAX_NOTICES][256]; /* the copyright notices, as written */
} recite_license_info;

typedef struct recite_license_checker recite_license_checker;

#define RECITE_LICENSE_OPTIONS_VERSION 1

typedef struct recite_license_options {
    unsigned version;                /* RECITE_LICENSE_OPTIONS_VERSION */
    const char *cache_dir;           /* as recite_build_options.license_cache_dir */
    const char *debian_licenses_dir; /* NULL = RECITE_DEFAULT_DEBIAN_LICENSES */
    const char *spdx_dir;            /* NULL = RECITE_DEFAULT_SPDX_DIR */
    const char *tmp_dir;             /* where the license index is built; NULL = /tmp */
    unsigned jobs;                   /* threads building it; 0 = all cores */
} recite_license_options;

#define RECITE_LICENSE_OPTIONS_INIT                                                                \
    {                                                                                              \
        .version = RECITE_LICENSE_OPTIONS_VERSION                                                  \
    }

/* Loads the license index of the license texts named by `opt` (NULL: defaults): taken from
 * opt->cache_dir when a copy built from the same texts is there, else built in a temporary
 * directory (and cached when a cache is given). RECITE_EEMPTY when there are no license texts.
 * The checker belongs to one thread at a time; free it with recite_license_checker_free. */
int recite_license_checker_create(recite_license_checker **out, const recite_license_options *opt,
                                  recite_error *err);
void recite_license_checker_free(recite_license_checker *lc); /* accepts NULL */

/* Identifies the license and copyright notices of text[0, len). `mode` is RECITE_MODE_CODE
 * (the header is the leading comments), _PROSE, or _AUTO (by the extension of `name`, which
 * may be NULL). Fills *out; out->license is "" when unknown. */
int recite_license_identify(recite_license_info *out, recite_license_checker *lc, const char *name,
                            const char *text, size_t len, recite_mode mode, recite_error *err);

/* ==== provenance catalogue (src/catalog/) ====
 * A SQLite database beside the index file (DIR/catalog.sqlite): one row per work with its
 * metadata and provenance, the training runs that used it, and an append-only audit log of
 * deletions. The index file is immutable; the catalogue is the mutable part of an index
 * directory. Every change is one transaction: on any error the catalogue is unchanged. */

typedef struct recite_catalog recite_catalog;

/* (Re)creates DIR/catalog.sqlite from the index at DIR (works, metadata, runs from the JSONL
 * "runs" field), atomically (temporary file + rename). Called by `recite index`. */
int recite_catalog_build(const char *index_dir, recite_error *err);

/* Opens DIR/catalog.sqlite; `writable` for deletions. A missing, locked or corrupt database is
 * an error (RECITE_EIO / RECITE_EFORMAT) with a one-line message. */
int recite_catalog_open(recite_catalog **out, const char *index_dir, int writable,
                        recite_error *err);

/* Whether the catalogue was made for the index now at index_dir (*current 1), or for an earlier
 * one (0): a build or compaction stopped (killed, disk full) after publishing the index and
 * before remaking its catalogue. recite_catalog_build brings it up to date, carrying its
 * deletions and audit log over (the CLI does so before any catalogue command). A catalogue of
 * a recite that did not record its index counts as current. */
int recite_catalog_current(recite_catalog *cat, const char *index_dir, int *current,
                           recite_error *err);
void recite_catalog_close(recite_catalog *cat); /* accepts NULL */

typedef struct recite_catalog_filter {
    const char *source;  /* NULL = any */
    const char *license; /* NULL = any */
    const char *run;     /* NULL = any */
    int include_deleted;
} recite_catalog_filter;

typedef struct recite_catalog_work {
    const char *id, *title, *author, *license, *copyright, *source, *url;
    const char *content_hash; /* hex */
    uint64_t bytes, tokens;
    uint32_t cluster;
    const char *runs;       /* comma-separated run names, "" when none */
    const char *deleted_at; /* ISO 8601 UTC, NULL when not deleted */
    const char *deleted_by, *deleted_why;
} recite_catalog_work;

/* Calls fn for each work passing the filter, in index order; fn returns 0 to go on. Strings
 * live until fn returns. */
int recite_catalog_list(recite_catalog *cat, const recite_catalog_filter *filter,
                        int (*fn)(const recite_catalog_work *w, void *user), void *user,
                        recite_error *err);

/* Calls fn for each training run with the number of (not deleted) works it used. */
int recite_catalog_runs(recite_catalog *cat, int (*fn)(const char *run, uint64_t works, void *user),
                        void *user, recite_error *err);

/* Marks a work deleted (its stored text is purged at the next compaction) and appends to the
 * audit log who, when and why. RECITE_EINVAL for an unknown or already deleted work. */
int recite_catalog_delete(recite_catalog *cat, const char *work_id, const char *who,
                          const char *why, recite_error *err);

/* Calls fn for each audit log entry, oldest first. */
int recite_catalog_audit(recite_catalog *cat,
                         int (*fn)(const char *at, const char *who, const char *action,
                                   const char *work_id, const char *why, void *user),
                         void *user, recite_error *err);

/* ==== policy (src/policy/, docs/POLICY.md) ====
 * A policy decides what a recitation means: for each matched work, the action of the first of
 * its rules whose conditions (license, source, CMI verdict, kind, common language, extent,
 * longest span, coverage) the work meets, else the policy's default. The verdict of a check is
 * the most severe action of its works (allow < cite < flag < block; allow is "pass"). Without
 * a policy (NULL) the default policy applies: common language is allowed, anything else is
 * flagged. A loaded policy is immutable and may be shared by any number of threads. */

typedef struct recite_policy recite_policy;

typedef enum {
    RECITE_ACTION_ALLOW = 0, /* allowed (the verdict "pass") */
    RECITE_ACTION_CITE = 1,  /* allowed with attribution */
    RECITE_ACTION_FLAG = 2,  /* for review */
    RECITE_ACTION_BLOCK = 3
} recite_action;

/* Reads and validates the policy file at `path` (JSON, at most 1 MiB). License ids are checked
 * against the SPDX license list in `spdx_dir` (NULL = RECITE_DEFAULT_SPDX_DIR). Errors name the
 * file, line and column: malformed JSON, wrong types, unknown keys or values, unknown license
 * ids, rules that can never apply (RECITE_EFORMAT); a missing or unreadable file (RECITE_EIO);
 * too large (RECITE_ELIMIT). Free the policy with recite_policy_free. */
int recite_policy_load(recite_policy **out, const char *path, const char *spdx_dir,
                       recite_error *err);

/* The same from json[0, len); `name` (may be NULL) names it in messages and reports. */
int recite_policy_parse(recite_policy **out, const char *json, size_t len, const char *name,
                        const char *spdx_dir, recite_error *err);

/* Releases a policy; accepts NULL. */
void recite_policy_free(recite_policy *p);

/* "allow", "cite", "flag" or "block"; never NULL. */
const char *recite_action_name(recite_action a);

/* Decides a result under policy `p` (NULL: the default policy). `idx` (may be NULL: every
 * source is then "unknown") gives the works' sources. When not NULL, actions_out[i] receives
 * the action for res->works[i] and rules_out[i] the 1-based rule that decided it (0: the
 * policy's default). Returns the verdict: the most severe action, RECITE_ACTION_ALLOW for no
 * works. Thread-safe. */
recite_action recite_policy_decide(recite_action *actions_out, int *rules_out,
                                   const recite_policy *p, const recite_index *idx,
                                   const recite_result *res);

/* ==== reports (src/report/) ==== */

/* Renders a result as the JSON object of the contract (INTERFACE.md) into a new malloc'd
 * NUL-terminated string in *out (caller frees). `text` is the checked text, `input_name` its
 * name in the report, `policy` decides the verdict and each work's "action" and "rule" (NULL:
 * the default policy). Thread-safe. */
int recite_report_json(char **out, const recite_index *idx, const recite_policy *policy,
                       const char *input_name, const char *text, size_t len,
                       const recite_result *res, recite_error *err);

/* The same as grep-like lines, one per match:
 *   out.txt:120-498  lib/a.txt:10233-10611  61 tokens  exact  "first words … last words"
 * then one summary line per work (with the policy's reasons) and a verdict line. */
int recite_report_text(char **out, const recite_index *idx, const recite_policy *policy,
                       const char *input_name, const char *text, size_t len,
                       const recite_result *res, recite_error *err);

/* The evidence report: one self-contained HTML document (no external resources, no scripts,
 * a print stylesheet) for people who decide whether a match matters. The checked text with
 * every span highlighted (colour by work, style by kind) and linked to its evidence; per span
 * the work's text side by side with context, with the words of near spans that were
 * substituted, inserted or dropped (renamed identifiers for code) marked; per work its
 * metadata, coverage, CMI verdict and the policy's action and rule; a header with the index,
 * policy, options and time of the check. Works of a text-free index show offsets and a note.
 * Every highlighted span carries data-start/data-end: its byte offsets in the checked text. */

#define RECITE_REPORT_HTML_OPTIONS_VERSION 1

typedef struct recite_report_html_options {
    unsigned version; /* RECITE_REPORT_HTML_OPTIONS_VERSION */

    /* Facts for the header (a printed report stands on its own) */
    const char *index_name;                    /* e.g. the index directory; NULL = not shown */
    const recite_check_options *check_options; /* the options the check ran with; NULL = the
                                                  defaults */
    uint64_t checked_unix;                     /* time of the check; 0 = now */

    /* What is shown */
    unsigned context_bytes; /* text shown before and after each span, both sides; 0 = 240 */
    unsigned max_evidence;  /* spans shown side by side with the work (the others are listed);
                               0 = 1000 */
} recite_report_html_options;

#define RECITE_REPORT_HTML_OPTIONS_INIT                                                            \
    {                                                                                              \
        .version = RECITE_REPORT_HTML_OPTIONS_VERSION                                              \
    }

/* Renders the evidence report of `res` (the result of checking text[0, len), named input_name)
 * into a new malloc'd NUL-terminated string in *out (caller frees). `policy` as for
 * recite_report_json; `opt` may be NULL (defaults). The works' text is read from idx. Returns
 * RECITE_OK, or RECITE_ENOMEM / RECITE_EINVAL (an options struct of another version) with err
 * filled. Thread-safe. */
int recite_report_html(char **out, const recite_index *idx, const recite_policy *policy,
                       const char *input_name, const char *text, size_t len,
                       const recite_result *res, const recite_report_html_options *opt,
                       recite_error *err);

#ifdef __cplusplus
}
#endif
#endif /* RECITE_H */
