/*
 * rc_match.h — the core matcher (layer 4): given a loaded index and a text fed in pieces, the
 * spans the text shares with the works, verified against the stored text, with offsets, kinds
 * and per-work figures. matcher.c (the stream: tokens, k-gram lookup, seeds),
 * match_candidates.c (which works to verify), match_verify.c (extension of seeds and
 * classification of runs), match_near.c (chaining seeds across edits), match_align.c (the
 * banded alignment),
 * match_finish.c (the pipeline, merging, figures), match_stream.c (spans reported while the
 * text streams in) and match_shards.c (a sharded index's candidates verified in parallel). It knows
 * nothing of CMI, policies or background indexes (src/check).
 */
#ifndef RC_MATCH_H
#define RC_MATCH_H

#include "../fingerprint/rc_fingerprint.h"
#include "../index/rc_index.h"

#define RC_SIG_CAP 256
#define RC_NO_POSTINGS 0xff   /* kgram_df value of an output k-gram found nowhere in the index */
#define RC_COMMON_POSTINGS 16 /* postings taken from one common k-gram (the first in the index) */
#define RC_NEAR_SEEDS 8       /* postings of one k-gram kept as near seeds (the first) */

typedef struct rc_seed {
    uint64_t gpos;    /* global token number in the index */
    uint32_t q;       /* token number in the checked text (in its channel's stream) */
    uint32_t cluster; /* filled in by candidate selection (or by the lookup of a distributed
                         check, with first) */
    uint32_t first;   /* the library's number of the cluster's first work */
    uint8_t channel;  /* enum rc_channel */
    bool exact;       /* passed the context filter: may start a run of min_tokens */
    bool view;        /* the cluster is a view (the words of a code cluster) */
} rc_seed;

#define RC_MAX_COMPARE_STEPS (64u << 20) /* token comparisons per check before `truncated` */

/* One tokenization of the checked text: words (prose) or lexemes (code). */
typedef struct rc_stream {
    int mode;
    rc_tok_state st;
    RC_VEC(rc_token) toks;
    uint64_t tried_at; /* bytes of text when it was last tokenized (rc_matcher_tokenize) */
} rc_stream;

/* What the lookup of a k-gram of many postings gave (matcher.c): the same k-gram hash with the
 * same contexts met again gives the same, unless its postings could still make seeds. */
typedef struct rc_lookup_memo {
    uint64_t hash, postings;
    uint32_t gen; /* the channel's memo_gen when made; another: empty */
    uint8_t left, right, df, cut;
    bool eligible; /* some posting could make a seed (taken, or cut by the quota) */
} rc_lookup_memo;
#define RC_MEMO_SIZE 64          /* entries per channel (a power of two) */
#define RC_MEMO_MIN_POSTINGS 256 /* postings in the bucket for a k-gram's lookup to be kept */

/* One channel of the index being looked up with a stream's tokens. */
typedef struct rc_chan {
    const rc_channel_info *info;
    rc_stream *stream;
    bool shape;                    /* compares shape hashes (renamed copies) */
    bool active;                   /* the index has postings in it */
    unsigned min_tokens;           /* the run length reported for this channel */
    RC_VEC(uint8_t) kgram_df;      /* per k-gram of the stream: DF class, or RC_NO_POSTINGS */
    RC_VEC(uint32_t) kgram_common; /* per k-gram: its postings when common language, else 0 */
    /* Per k-gram: 1 when some of its postings may have made no seed: it was not looked up (a
     * code channel's k-gram without structure), or its exact postings were not all taken
     * (common language past RC_COMMON_POSTINGS; in a distributed check, every k-gram: the
     * shards that took its postings do not say). With quota_cut (the quota of seeds ended the
     * lookups) any posting may have made none. Read by seed_alone in match_verify.c. */
    RC_VEC(uint8_t) kgram_cut;
    /* Bit q set when kgram_cut[q] is 0, a word per 64 k-grams (and one more): made by
     * rc_match_find_runs for the channels seed_alone tells about, which reads 61 at a time. */
    RC_VEC(uint64_t) kgram_open;
    bool quota_cut;
    uint64_t common_postings_max;
    uint32_t seeds_taken; /* of the check's max_postings, this channel's share (see matcher.c) */
    uint32_t memo_gen; /* bumped by every reset: the memo's entries of an earlier check are void */
    rc_lookup_memo memo[RC_MEMO_SIZE];
} rc_chan;

/* The hash a channel compares. */
static inline uint64_t rc_chan_hash(const rc_chan *ch, const rc_token *t)
{
    return ch->shape ? t->shape : t->hash;
}

/* The 8-bit context hash of the channel's tokens [from, from + n) (matcher.c). */
unsigned rc_chan_context(const rc_chan *ch, size_t from, size_t n);

/* The context hashes of k-gram q of the channel's stream: of the tokens just before it and
 * just after it (up to the window's context length each), which a posting's key holds to tell
 * an exact seed from a near one. */
static inline void rc_chan_contexts(const rc_chan *ch, size_t q, unsigned *left, unsigned *right)
{
    size_t cc = rc_context_len(ch->info->window), k = ch->info->kgram, n = ch->stream->toks.n;
    size_t nl = RC_MIN(cc, q), nr = RC_MIN(cc, n - q - k);
    *left = rc_chan_context(ch, q - nl, nl);
    *right = rc_chan_context(ch, q + k, nr);
}

/* The channel's memo entry for a k-gram of this hash and these contexts (rc_lookup_memo). */
static inline rc_lookup_memo *rc_chan_memo(rc_chan *ch, uint64_t hash, unsigned left,
                                           unsigned right)
{
    return &ch->memo[rc_mix64(hash ^ (left << 8 | right)) & (RC_MEMO_SIZE - 1)];
}

typedef struct rc_raw_match {
    uint32_t cluster; /* a cluster, or a view (the words of a code cluster: rc_index_cluster) */
    uint32_t primary; /* the cluster whose works these are */
    uint32_t first;   /* the library's number of its first work (the representative) */
    uint8_t channel;
    uint32_t q0, len; /* output tokens */
    uint64_t s0;      /* local token number in the cluster */
    uint32_t src_len; /* source tokens (== len but for near spans) */
    uint64_t src_start, src_end;
    bool common;
    bool aligned;     /* found by alignment (near): kind and similarity already set */
    bool weak;        /* a shape span too unlike the work's code to report (rc_match_classify) */
    recite_kind kind; /* set by rc_match_classify */
    double similarity;
    /* What finishing needs of the work, set with the run where its text is at hand
     * (rc_match_describe), so that runs found elsewhere (a distributed check) finish alike: */
    uint64_t w0, w1;  /* the run's tokens in its work's own unit (a view's run: lexemes) */
    uint64_t wtokens; /* tokens of the primary cluster */
    uint64_t vtokens; /* tokens of the view (a run of a view), else 0 */
    uint64_t seed;    /* the seed an exact run was extended from (its index in the seeds
                         verified), UINT64_MAX for a near span: the limits of a check cut
                         runs in seed order (rc_match_merge_parts) */
} rc_raw_match;

/* An extension made while verifying: its seed, token comparisons, and whether it made a run. */
typedef struct rc_extension {
    uint64_t seed;
    uint32_t steps;
    bool pushed;
} rc_extension;

/* What the verification of a part of the seeds gives (a thread's shards, or a participant's in
 * a distributed check): its runs, its extensions in seed order, and whether something other
 * than the limits on extensions cut it short. */
typedef struct rc_part {
    RC_VEC(rc_raw_match) raw;
    RC_VEC(rc_extension) ext;
    bool truncated;
} rc_part;

/* A span followed while the text streams in (match_stream.c). */
typedef struct rc_live_span {
    rc_raw_match m;        /* cluster, channel, q0, len, s0, source bytes, kind */
    uint32_t id;           /* its event number; UINT32_MAX until it is reported */
    uint32_t reported_len; /* tokens when last reported */
    bool open;             /* it reaches the last token of the text: it may grow */
    bool reported_open;    /* open when last reported */
} rc_live_span;

/* The values of a matching cell in rc_align_may_edit. */
typedef struct rc_align_cell {
    uint32_t row;
    int32_t r, v, w;
} rc_align_cell;

/* Reusable buffers of the banded alignment (match_align.c). */
typedef struct rc_align_scratch {
    RC_VEC(int32_t) h;    /* two rows of scores (scalar) */
    RC_VEC(int16_t) h16;  /* two rows of scores (vector) */
    RC_VEC(uint8_t) from; /* the move into each cell */
    RC_VEC(uint64_t) a, b;
    RC_VEC(int16_t) aid, ids, bid; /* tokens as dense ids: a's, b's, b's padded */
    RC_VEC(uint64_t) tab_key;      /* the table that gives them */
    RC_VEC(uint16_t) tab_id;
    RC_VEC(uint32_t) start, pos; /* positions of each id in b */
    RC_VEC(rc_align_cell) last;
} rc_align_scratch;

/* A channel's output tokens as 16-bit ids, made for the first alignment of a check
 * (match_near.c). */
typedef struct rc_out_ids {
    RC_VEC(uint64_t) key; /* open addressing: token hash ... */
    RC_VEC(uint16_t) id;  /* ... and its id (0: a free slot) */
    RC_VEC(int16_t) q;    /* the id of each output token */
    bool built, too_many;
} rc_out_ids;

/* The punctuation comparisons of a check, by passage (match_verify.c). */
typedef struct rc_punct_memo {
    RC_VEC(struct memo_entry) entries;
    RC_VEC(uint32_t) slots; /* open addressing: entry + 1, 0 = free */
    RC_VEC(uint8_t) arena;  /* the token starts and bytes of each entry */
    RC_VEC(uint32_t) starts;
} rc_punct_memo;
void rc_punct_memo_reset(rc_punct_memo *pm);
void rc_punct_memo_free(rc_punct_memo *pm);

/* The alignments of a check, by output range and source tokens (match_near.c). */
typedef struct rc_align_memo {
    RC_VEC(struct align_memo_entry) entries;
    RC_VEC(uint32_t) slots; /* open addressing: entry + 1, 0 = free */
    RC_VEC(uint64_t) arena; /* the source tokens of each entry */
} rc_align_memo;

/* Prose tokens of the output on include and import lines (match_imports.c), counted as they
 * come: before.v[i] of the first i; `line` is the line of the next token to count, `line_end`
 * its '\n' (UINT64_MAX while the text holds none: the text up to `searched` was looked at),
 * `is` its class once `classified` (when the line is whole, or the text final); `depth` and
 * `backslash` what the line before carries into it (open brackets of an import line, a
 * backslash at its end), next_depth and next_backslash what it carries into the next. */
typedef struct rc_imports {
    RC_VEC(uint32_t) before;
    uint64_t line, line_end, searched;
    uint32_t depth, next_depth;
    bool backslash, next_backslash, is, classified;
} rc_imports;
void rc_align_memo_reset(rc_align_memo *am);
void rc_align_memo_free(rc_align_memo *am);

/* Scratch of the code similarity of shape spans (match_code.c). */
typedef struct rc_code_scratch {
    RC_VEC(uint64_t) ah, as, bh, bs; /* lexeme and shape hashes of the output's and the work's */
    RC_VEC(uint8_t) moves;
    RC_VEC(int32_t) rows;
    RC_VEC(uint32_t) pa, pb; /* the aligned pairs */
    RC_VEC(uint64_t) key, val;
    RC_VEC(uint8_t) used; /* the renaming, both ways: 2 tables of cap slots */
    RC_VEC(int16_t) ids;
    RC_VEC(int32_t) bid;
    size_t cap;
} rc_code_scratch;
void rc_code_scratch_free(rc_code_scratch *sc);

typedef struct rc_code_sim {
    double similarity; /* (equal lexemes + consistently renamed names) / the longer side */
    double kept;       /* of the output's names and strings, the share the work has as they are */
    double names;      /* names and literals among the output's lexemes */
    double kept_distinct; /* of the output's distinct names and strings, the share kept */
    double boilerplate; /* of the span's shape k-grams the index holds, the share in 8+ families */
    uint32_t strings, strings_kept; /* the output's string literals, those equal in the work */
    bool exact;                     /* every lexeme equal, no indel */
    uint32_t len;                   /* output lexemes */
} rc_code_sim;

/* The phases of a check, as a profile counts them (rc_matcher.profile): tokenizing the text
 * (words and lexemes), looking its k-grams up, choosing the works to verify, exact runs against
 * the stored text (extension, kinds), near-verbatim spans (chaining, alignment), merging and
 * per-work figures, and the checker's CMI verdicts (and background). */
enum {
    RC_PH_TOKENIZE,
    RC_PH_LOOKUP,
    RC_PH_SELECT,
    RC_PH_EXACT,
    RC_PH_NEAR,
    RC_PH_MERGE,
    RC_PH_CMI,
    RC_PHASES
};

/* A work sharing k-grams with the text, on its way to being verified or not
 * (match_candidates.c). */
typedef struct rc_candidate {
    uint32_t cluster;
    uint32_t rep; /* its first work: ties are broken by it, which orders works as one index of
                     the library does whether or not it is sharded */
    uint32_t seeds;
    size_t first;  /* its seeds are seeds[first .. first + seeds) while sorted by position */
    bool specific; /* has an exact seed whose k-gram is not common language */
    bool exact;    /* has an exact seed */
    bool keep;
    bool view; /* a view of a code cluster: after the cluster, whose first work it shares */
} rc_candidate;

/* A candidate's place in the order works are chosen in (specific language first, then most
 * seeds, then the library's order), as two words compared as one number. */
typedef struct rc_cand_key {
    uint64_t hi, lo;
    uint32_t cand;
} rc_cand_key;

typedef struct rc_matcher {
    const recite_index *idx;
    uint32_t max_matches, max_postings, max_candidates, common_sample;
    bool all_works;        /* no sampling of common language, no candidate cap */
    bool near;             /* look for near-verbatim spans too */
    double min_similarity; /* of near spans */

    rc_tokenizer tz;
    /* Taken from the index's spare readers when a check first reads stored text, given back
     * when the check is complete (rc_matcher_release_reader), so that its report, a one-off
     * read, finds the blocks the check decoded; NULL between checks. */
    rc_store_reader *reader;
    const rc_chunk *chunk; /* the chunk of stored tokens read last (rc_match_src_tok): in the
                              reader's cache, NULL once the reader is given back */
    /* The record of the cluster whose chunk was read last: runs, alignments and seeds of one
     * work go from chunk to chunk of it (the index is immutable: it stays true). */
    uint32_t chunk_cl;
    bool chunk_cl_known;
    rc_cluster chunk_info;
    rc_align_scratch align;
    rc_out_ids ids[RC_CHANNELS]; /* near matching: the output's tokens as 16-bit ids */
    rc_punct_memo punct_memo;
    rc_align_memo align_memo;
    rc_imports imports; /* the output's prose tokens on include and import lines */
    /* Near matching of code (match_near.c): chains aligned, chains not aligned because a span
     * already aligned in their work holds them, and because none of the output's names there
     * is the work's (rc_code_may_keep) (cumulative, for tests and benchmarks); with
     * near_every_chain none is skipped (tests compare the two). */
    uint64_t near_code_aligned, near_code_inside, near_code_unkept;
    bool near_every_chain;
    /* Exact runs of shapes found weak without their code similarity (rc_code_run_may_keep in
     * rc_match_classify; cumulative); with near_every_chain, none. */
    uint64_t shape_runs_unkept;
    /* Exact seeds not extended because no run of min_tokens can pass through them
     * (seed_alone in match_verify.c; cumulative); with extend_every_seed all are extended. */
    uint64_t seeds_alone;
    bool extend_every_seed;
    /* Lookups of a k-gram of many postings answered by the channel's memo (matcher.c;
     * cumulative); with lookup_every_posting, none is (tests compare the two). */
    uint64_t lookup_memo_hits;
    bool lookup_every_posting;
    /* With profile set (bench/bench_phases.c; off by default), each phase's time is added to
     * phase_ns: two clock reads a phase. */
    bool profile;
    uint64_t phase_ns[RC_PHASES];
    rc_code_scratch code;
    uint64_t shape_ident, shape_num, shape_str; /* the class shapes (keyed when text-free) */

    /* the text, its tokenizations and the channels looking them up */
    RC_VEC(uint8_t) text;
    rc_stream streams[2]; /* words; lexemes (when the index holds code) */
    rc_chan chans[RC_CHANNELS];
    RC_VEC(rc_seed) seeds;
    RC_VEC(rc_seed) seeds_tmp; /* scratch of their sorts */
    /* Scratch of choosing the works to verify (rc_match_select), kept from check to check. */
    RC_VEC(rc_candidate) cands;
    RC_VEC(rc_cand_key) cand_keys, cand_tmp;
    RC_VEC(uint8_t) cover[2];
    bool truncated;
    bool finished; /* finish() ran: the next feed starts a new text */
    uint64_t steps;
    /* Verifying a part of the seeds (rc_match_verify_part): the extensions are logged, each
     * seed's index among all the seeds is seed_ids[i] (NULL: i), and the limits on extensions
     * set runs_cut, not truncated (the merge of the parts decides). */
    bool part;
    bool annotated; /* the seeds carry their cluster and first work (a distributed check) */
    bool dist;      /* a distributed check: tokenizing looks nothing up (match_dist.c does) */
    const uint64_t *seed_ids;
    RC_VEC(rc_extension) ext;
    bool runs_cut;
    uint64_t common_others;

    /* results */
    RC_VEC(rc_raw_match) raw;
    RC_VEC(recite_match) matches;
    RC_VEC(recite_work_hit) works;
    RC_VEC(uint8_t) srcbuf;
    recite_result result;
    uint8_t sig_a[RC_SIG_CAP], sig_b[RC_SIG_CAP];

    /* streaming verdicts (match_stream.c) */
    struct {
        size_t next_seed; /* seeds below this have been looked at */
        RC_VEC(rc_live_span) spans;
        uint64_t *diag_key;  /* open addressing: (cluster, channel, diagonal) + 1, 0 = free */
        uint32_t *diag_span; /* the latest span on that diagonal */
        size_t diag_cap;     /* a power of two, or 0 */
        RC_VEC(recite_span_event) events;
        RC_VEC(recite_match) matches;
        RC_VEC(recite_work_hit) works;
        recite_result result;
        uint32_t reported;
        uint64_t steps;
        bool truncated;
    } live;
} rc_matcher;

/* Whether a lexeme has code's structure: an operator or a bracket (its first byte). Words,
 * keywords, numbers, strings and prose's punctuation (, . ; : ! ? ' " -) are what prose is made
 * of too. The code channels look up only k-grams with such a lexeme (one index's lookup and a
 * sharded index's alike): by shape a k-gram without one has no structure of code; by its exact
 * lexemes it is words, which the prose channel looks up in code works' word views. */
static inline unsigned rc_structural(const rc_matcher *c, const rc_token *t)
{
    static const uint8_t ops[256] = {
        ['('] = 1, [')'] = 1, ['['] = 1, [']'] = 1, ['{'] = 1,  ['}'] = 1, ['<'] = 1, ['>'] = 1,
        ['='] = 1, ['+'] = 1, ['*'] = 1, ['/'] = 1, ['%'] = 1,  ['&'] = 1, ['|'] = 1, ['^'] = 1,
        ['~'] = 1, ['#'] = 1, ['$'] = 1, ['@'] = 1, ['\\'] = 1, ['`'] = 1};
    return ops[c->text.v[t->start]];
}

/* ==== the matcher's life (matcher.c, match_finish.c) ==== */

/* A matcher over idx with the matching fields of opt (NULL: defaults; background and skip_cmi
 * are not the matcher's and are ignored). RECITE_EINVAL for a min_tokens below the index's
 * guarantee, RECITE_EKEY for a text-free index opened without its key. */
/* Starts a phase of the profile: the clock now, or 0 when not profiling. */
static inline uint64_t rc_phase_start(const rc_matcher *c)
{
    return c->profile ? rc_clock_ns() : 0;
}

/* Ends phase ph started at t0 (rc_phase_start). */
static inline void rc_phase_end(rc_matcher *c, unsigned ph, uint64_t t0)
{
    if (c->profile)
        c->phase_ns[ph] += rc_clock_ns() - t0;
}

int rc_matcher_create(rc_matcher **out, const recite_index *idx, const recite_check_options *opt,
                      recite_error *err);
void rc_matcher_free(rc_matcher *m); /* accepts NULL */
void rc_matcher_reset(rc_matcher *m);
/* Feeds text in any pieces (the next text after a finish). */
int rc_matcher_feed(rc_matcher *m, const char *bytes, size_t len, recite_error *err);
/* Ends the text: m->result holds its matches and works (without CMI) until the next feed. */
int rc_matcher_finish(rc_matcher *m, recite_error *err);
/* reset + feed + finish; *out = &m->result. */
int rc_matcher_check(const recite_result **out, rc_matcher *m, const char *text, size_t len,
                     recite_error *err);
const char *rc_matcher_text(const rc_matcher *m, size_t *len);
/* The lookup of the channel's k-grams whose context is complete (all when final) in an index of
 * several posting tables (a sharded index's; or a shard's, which keeps bits apart), with the
 * seeds one index of the whole library gives (match_lookup.c). */
int rc_match_lookup_shards(rc_matcher *c, unsigned chn, bool final);

/* ==== the lookup of a distributed check (match_lookup.c) ====
 * Each participant scans the tables of its shards for every k-gram of the text; the scans of
 * all are then taken together, shard after shard, as rc_match_lookup_shards takes its tables. */

enum { RC_HIT_SPECIFIC, RC_HIT_COMMON, RC_HIT_NEAR };

/* A posting of a k-gram found in a shard, with what only its shard knows: its rank in the
 * library's order (first work << 32 | token in the text) and its cluster (library numbers). */
typedef struct rc_scan_hit {
    uint64_t gpos, rank;
    uint32_t cluster;
    uint8_t kind; /* RC_HIT_* */
} rc_scan_hit;

/* What a shard holds of k-gram q of a channel: the highest class its postings show, how many
 * postings, and the hits it gives (every exact one, the first common and near ones). */
typedef struct rc_scan_rec {
    uint8_t channel, df;
    uint32_t q, shard;
    uint64_t postings;
    uint32_t nhits;
    const rc_scan_hit *hits;
} rc_scan_rec;

/* Scans the tables of c's index (the shards open here) for every k-gram of the channel's stream
 * (tokenized whole); emit() receives each k-gram's record per shard holding a posting of it, in
 * k-gram order. */
typedef int (*rc_scan_emit)(void *user, const rc_scan_rec *r);
int rc_match_scan(rc_matcher *c, unsigned chn, rc_scan_emit emit, void *user);
/* Takes the records of every shard for the channel (recs[0, n), sorted by k-gram then shard)
 * as the seeds, classes and counts of its k-grams, exactly as rc_match_lookup_shards does with
 * all the tables at hand; the seeds carry their cluster and first work (c->annotated). */
int rc_match_take_scans(rc_matcher *c, unsigned chn, const rc_scan_rec *recs, size_t n);
/* Tokenizes what is complete and looks up the k-grams whose context is (all when final).
 * RECITE_ELIMIT, RECITE_EFORMAT (a damaged fingerprint table) or RECITE_ENOMEM, which
 * rc_matcher_tokenize_error puts in words. */
int rc_matcher_tokenize(rc_matcher *m, bool final);
const char *rc_matcher_tokenize_error(int rc);

/* The spans the text fed so far settles (recite_checker_poll without CMI: the works of
 * out->so_far have cmi UNKNOWN) and the leak bound (match_stream.c). */
int rc_matcher_poll(recite_poll *out, rc_matcher *m, recite_error *err);
unsigned rc_matcher_leak_bound(const rc_matcher *m, recite_mode mode);

/* Chooses the works to verify: keeps their seeds, sorted by (cluster, channel, diagonal,
 * position) (match_candidates.c). */
int rc_match_select(rc_matcher *m, recite_error *err);

/* Extends the seed (output token q, local source token s of cluster cl) into the maximal run
 * of equal tokens around it, in m; adds its token comparisons to *steps. */
int rc_match_extend(rc_matcher *c, const rc_chan *ch, uint32_t cl, const rc_cluster *info,
                    uint32_t q, uint64_t s, rc_raw_match *m, uint64_t *steps, recite_error *err);

/* Orders of the result (qsort comparators): matches by output start, then work and source
 * start; works specific before common, then by tokens covered, then number. */
int rc_match_cmp_public(const void *a, const void *b);
int rc_match_cmp_hit(const void *a, const void *b);
/* A span's part in its work's score (recite_work_hit.score). */
double rc_match_score(const rc_raw_match *m);

/* A run as the public match (the cluster's representative work, output byte offsets). */
recite_match rc_match_to_public(const rc_matcher *c, const rc_raw_match *m);

/* Resets and frees the streaming state (match_stream.c). */
void rc_live_reset(rc_matcher *c);
void rc_live_free(rc_matcher *c);

/* Extends the seeds (sorted by cluster, diagonal, output position) into maximal runs of equal
 * tokens, appending those of at least min_tokens to c->raw. */
int rc_match_find_runs(rc_matcher *c, recite_error *err);

/* Chains the seeds of each candidate work (sorted by cluster, diagonal, position) across small
 * edits, aligns each chain against the stored text (banded local alignment in token space) and
 * appends the near-verbatim spans of at least min_tokens and min_similarity to c->raw. */
int rc_match_near(rc_matcher *c, recite_error *err);

/* A local alignment of two token sequences: a[a0..a1) with b[b0..b1). */
typedef struct rc_alignment {
    size_t a0, a1, b0, b1;
    uint32_t matches, edits; /* edits: substitutions, insertions and deletions */
    int32_t score;           /* +1 a match, -2 a mismatch or a gap */
} rc_alignment;

/* Best local alignment (Smith-Waterman: match +1, mismatch -2, gap -2) of a and b within the
 * diagonals dlo..dhi (b index = a index + d). Returns RECITE_ELIMIT when the band is too large
 * (over 64 M cells), RECITE_ENOMEM. *out is all zero when nothing aligns. */
int rc_align_local(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, int64_t dlo,
                   int64_t dhi, rc_alignment *out);
/* The same with the tokens also given as 16-bit ids (equal ids exactly where tokens are equal;
 * no id of a is 0). With skip_without_edit, an alignment that cannot have an edit (see
 * rc_align_may_edit) is not computed: *out is then all zero. */
int rc_align_ids(rc_align_scratch *sc, const uint64_t *a, const int16_t *aid, size_t na,
                 const uint64_t *b, const int16_t *bid, size_t nb, int64_t dlo, int64_t dhi,
                 bool skip_without_edit, rc_alignment *out);
/* Whether the best alignment of a and b in the band can have an edit: *may is false only when
 * it cannot (then it has no edit, or no match: near matching drops it without aligning). */
int rc_align_may_edit(rc_align_scratch *sc, const uint64_t *a, size_t na, const uint64_t *b,
                      size_t nb, int64_t dlo, int64_t dhi, bool *may);
/* The cell-by-cell definition (what tests compare the vector implementation with). */
int rc_align_local_reference(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
                             int64_t dlo, int64_t dhi, rc_alignment *out);
/* The same with buffers kept across calls (free them with rc_align_scratch_free). */
int rc_align_local_scratch(rc_align_scratch *sc, const uint64_t *a, size_t na, const uint64_t *b,
                           size_t nb, int64_t dlo, int64_t dhi, rc_alignment *out);
void rc_align_scratch_free(rc_align_scratch *sc);

/* The matcher's store reader, taken from the index's spares if it has none (NULL when out of
 * memory), and its giving back (the chunk read last goes with it). */
rc_store_reader *rc_matcher_reader(rc_matcher *c);
void rc_matcher_release_reader(rc_matcher *c);

/* Token t of cluster cl, from its chunk of stored tokens (made or found in the reader's cache);
 * *out stays valid until the next call, and *x (when not NULL) receives the token's extras in
 * a text-free index. */
int rc_match_src_tok_load(rc_matcher *c, uint32_t cl, uint64_t t, const rc_token **out,
                          const rc_tokx **x, recite_error *err);
static inline int rc_match_src_tok(rc_matcher *c, uint32_t cl, uint64_t t, const rc_token **out,
                                   const rc_tokx **x, recite_error *err)
{
    const rc_chunk *ch = c->chunk; /* a run reads one chunk after another: try the last one */
    uint64_t k = t % RC_CHECKPOINT_EVERY;
    if (RC_LIKELY(ch && ch->key == rc_chunk_key(cl, t / RC_CHECKPOINT_EVERY) && k < ch->n)) {
        *out = &ch->toks[k];
        if (x)
            *x = &ch->tokx[k];
        return RECITE_OK;
    }
    return rc_match_src_tok_load(c, cl, t, out, x, err);
}

/* Sets the kind and similarity of a run (and `weak` for a shape run to drop). */
int rc_match_classify(rc_matcher *c, rc_raw_match *m, recite_error *err);

/* ==== code similarity of shape spans (match_code.c) ==== */

/* Whether a lexeme of this shape is a name or a literal (its shape is its class). */
static inline bool rc_code_is_name(const rc_matcher *c, uint64_t shape)
{
    return shape == c->shape_ident || shape == c->shape_num || shape == c->shape_str;
}

/* The similarity of output lexemes [q0, q0 + qlen) of the shape channel with lexemes
 * [s0, s0 + slen) of cluster cl: pair by pair, or along the best path when `indels`. */
int rc_code_similarity(rc_matcher *c, uint32_t cl, uint32_t q0, uint32_t qlen, uint64_t s0,
                       uint64_t slen, bool indels, rc_code_sim *out, recite_error *err);
/* Whether such a span is reported: similar enough (min_similarity), keeping enough of the
 * work's names and literals, and having enough of them. */
bool rc_code_sim_ok(const rc_matcher *c, const rc_code_sim *cs);
/* Whether an edited span of output lexemes [qa, qb) against lexemes [sa, sb) of cluster cl can
 * pass rc_code_sim_ok: *may is false when no stretch of the shape channel's min_tokens or more
 * there has one of its names or strings among the work's there, and MIN_KEPT of them so (the
 * work's tokens are read). */
int rc_code_may_keep(rc_matcher *c, uint32_t cl, uint32_t qa, uint32_t qb, uint64_t sa, uint64_t sb,
                     bool *may, recite_error *err);
/* Whether a run of shapes, output lexemes [q0, q0 + len) against lexemes [s0, s0 + len) of
 * cluster cl pair by pair, can pass rc_code_sim_ok: *may is false when fewer than MIN_KEPT of
 * its names and strings, or none, are equal in the work, and not all of them are. */
int rc_code_run_may_keep(rc_matcher *c, uint32_t cl, uint32_t q0, uint32_t len, uint64_t s0,
                         bool *may, recite_error *err);
/* The first token t of cluster cl (n tokens) whose end is after `byte` (by_start: whose start
 * is at or after it); n when there is none (match_finish.c). */
int rc_match_token_at_byte(rc_matcher *c, uint32_t cl, uint64_t n, uint64_t byte, bool by_start,
                           uint64_t *out, recite_error *err);

/* Whether an edited span (near) of `words` output words found in cluster cl, its tokens
 * [s0, s0 + slen), is reported: always for a prose cluster; for the words of a code cluster (a
 * view), when it has code_min_tokens / 2 words or is mostly of the work's comments. */
int rc_view_near_ok(rc_matcher *c, uint32_t cl, uint32_t words, uint64_t s0, uint64_t slen,
                    bool *ok, recite_error *err);
/* The best local alignment of output lexemes [qa, qb) of the shape channel with the lexemes of
 * cluster cl (ntok of them) on diagonals dlo..dhi (source = output + d), by shapes, with affine
 * gaps (a line inserted or deleted costs little more than a lexeme); in output and source
 * token numbers. RECITE_ELIMIT when the band is too large. */
int rc_code_align(rc_matcher *c, uint32_t cl, uint64_t ntok, uint32_t qa, uint32_t qb, int64_t dlo,
                  int64_t dhi, rc_alignment *out, recite_error *err);
#define RC_CODE_LANES 8
int rc_code_align_reference(rc_code_scratch *sc, const uint64_t *a, size_t na, const uint64_t *b,
                            size_t nb, int64_t lo, int64_t hi, rc_alignment *out);
int rc_code_align_ids(rc_code_scratch *sc, const int16_t *aid, size_t na, const int16_t *bid,
                      size_t nb, int64_t lo, int64_t hi, rc_alignment *out);
int rc_code_align_ids_plain(rc_code_scratch *sc, const int16_t *aid, size_t na, const int16_t *bid,
                            size_t nb, int64_t lo, int64_t hi, rc_alignment *out);
int rc_match_out_ids(rc_matcher *c, unsigned chn, const rc_out_ids **out);
int16_t rc_match_id_of(const rc_matcher *c, unsigned chn, uint64_t h);

/* The verification of the kept seeds (in the library's order of clusters, then channel,
 * diagonal, position): exact runs (rc_match_find_runs), their kinds (rc_match_classify), then
 * near-verbatim spans (rc_match_near), appended to c->raw and described (rc_match_describe).
 * rc_match_verify runs it on shards in parallel threads when the index is sharded and the check
 * large enough (match_shards.c), with the same runs. */
int rc_match_verify_seeds(rc_matcher *c, recite_error *err);
int rc_match_verify(rc_matcher *c, recite_error *err);
/* The verification of the seeds of the shards marked in take[] (nshards entries; shards open
 * in c's index), into *out (rc_part_free it); c is left as it was (its seeds, no runs). */
int rc_match_verify_part(rc_part *out, rc_matcher *c, const uint8_t *take, recite_error *err);
/* The runs of the parts together, as one verification of all the seeds gives them: the limits
 * on extensions (RC_MAX_COMPARE_STEPS, 4 x max_matches runs) applied in seed order over the
 * parts' extensions, the runs of the seeds past the cut dropped. Appends to c->raw. */
int rc_match_merge_parts(rc_matcher *c, rc_part *parts, size_t n, recite_error *err);
void rc_part_free(rc_part *p);

/* The lookups, candidates and runs of c's text (tokenized: c->dist) by every participant of
 * comm, each holding a part of a sharded index (match_dist.c): c->result as a check of the
 * whole index gives it, on every participant. A failure in a step fails it on all; rc: this
 * participant's failure so far (it takes part in the first step all the same). */
int rc_match_distributed(rc_matcher *c, const recite_comm *comm, int rc, recite_error *err);

/* Sets what finishing needs of each run of c->raw from index (rc_raw_match: w0 ... vtokens). */
int rc_match_describe(rc_matcher *c, recite_error *err);
/* The result of the verified runs of c->raw (described): contained runs dropped, the limit on
 * matches, the works' figures, the public matches (match_finish.c). Reads nothing of the index
 * but its counts. */
int rc_match_finish_runs(rc_matcher *c, recite_error *err);

/* ==== include and import lines (match_imports.c) ==== */

/* How many of the output's prose tokens [q0, q0 + len) lie on include or import lines. Before
 * the text is final, a last line not ended yet counts by its bytes so far. */
int rc_match_import_words(rc_matcher *c, uint64_t q0, uint64_t len, bool final, uint64_t *out,
                          recite_error *err);
void rc_imports_reset(rc_imports *im);

#endif /* RC_MATCH_H */
