/*
 * license_identify.c — the license of a text as an SPDX expression. The text is compared with
 * the license texts its k-grams vote for (license_match.c); a license whose text it holds (all
 * of it but replaceable words: holders, titles) is a full text, and a full text wins over any
 * name the text mentions. Variants decide by their distinctive words: of the licenses that
 * explain the text about as well, the one whose own text is most fully present. Several full
 * texts are joined with AND (OR when the text offers the choice); without a full text, the
 * licenses the text names (license_names.c), else the license whose notice it holds. The
 * exceptions its wording grants are added with WITH. GNU licenses get -or-later when the text
 * says "any later version", -only otherwise; every id is one of the license index's.
 */
#include "rc_license.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_CANDS 12    /* license texts compared, of those the vote ranks first */
#define MIN_MATCHED 12  /* words of a license a text must hold to be identified */
#define MIN_SCORE 0.2   /* ... and that share of its words */
#define FULL_TEXT 0.6   /* share of a license's own words a text holds to be its text */
#define CLOSE 0.95      /* licenses explaining this share of the best one's words compete */
#define FIT_TIE 0.01    /* fits of notices this close are a tie, decided by words explained */
#define MORE_MATCHED 40 /* words a further license text explains on its own */
#define COMPLETE 0.95   /* share of its own words a complete license text shows */
#define SOME_PART 0.3   /* a complete text explaining this share of what the best explains */
#define JUMP_COST 10    /* missing words a jump to another place of the license costs */
#define OWN_WORDS 12    /* words of a part of the text besides license texts, to be read */
#define SUBSUMED 0.8    /* share of a text's words another license text explains too */
#define BIGGER 1.5      /* ... which, found later, explains this many times more */
#define MAX_TERMS 4
#define MAX_MENTIONS 16
#define MAX_EXCEPTIONS 4

typedef struct term {
    char id[64];
    bool full; /* a license text the text holds */
    bool named;
    uint8_t *cov; /* full texts: the tokens of the text it explains */
    size_t ncov;
    uint64_t start, end; /* full texts: bytes from its first to its last token */
} term;

typedef struct ident {
    rc_license_matcher *lm;
    size_t nq; /* tokens of the text */
    uint8_t *mask, *cov, *best_cov;
    uint8_t *covbuf; /* MAX_TERMS coverages of nq + 1 */
    rc_license_fit fits[MAX_CANDS];
    term terms[MAX_TERMS];
    size_t nterms;
} ident;

static const char *license_of(const recite_index *lic, uint32_t cluster)
{
    rc_cluster info;
    rc_index_cluster(lic, cluster, &info);
    uint32_t w = rc_get_u32(lic->sec[RC_SEC_MEMBERS].data + 4 * (uint64_t)info.member0);
    recite_work_info wi;
    if (recite_index_work(&wi, lic, w) != RECITE_OK)
        return "";
    return wi.license ? wi.license : wi.id;
}

static double presence(const rc_license_fit *f)
{
    return f->license_fixed ? 1.0 - (double)f->missing / (double)f->license_fixed : 0.0;
}

static double dice(const rc_license_fit *f, size_t nq)
{
    return 2.0 * f->matched / ((double)nq + (double)f->license_tokens);
}

/* What a license text and the text do not share: the license's own words the text lacks, the
 * text's words the license lacks, twice (replaceable words aside on both sides: a text may
 * leave out the optional end of a license, trademark notes or an appendix, which the header
 * extractor cuts too; words the license lacks are another variant's), and paragraphs in
 * another order. */
static uint32_t cost(const rc_license_fit *f)
{
    return f->missing + 2 * f->unexplained + JUMP_COST * f->jumps;
}

/* Of the candidates compared (fits[0, n)), the full text the text holds best, or -1: among
 * those explaining nearly as many of its words as the best, the most complete (fewest of its
 * own words missing: HP's patent clause, the ShareAlike sections; and in order), then the one
 * explaining more, then the closer in size. A license text the text holds completely goes
 * before a larger one it holds in part (two texts one after the other are two licenses, not a
 * third that has some of both). */
static int best_full(const rc_license_fit *fits, size_t n, size_t nq)
{
    uint32_t most = 0, most_complete = 0;
    for (size_t i = 0; i < n; i++) {
        most = RC_MAX(most, fits[i].matched);
        if (presence(&fits[i]) >= COMPLETE)
            most_complete = RC_MAX(most_complete, fits[i].matched);
    }
    if (most_complete >= MORE_MATCHED && (double)most_complete >= SOME_PART * most)
        most = most_complete;
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        const rc_license_fit *f = &fits[i];
        if (f->matched < MIN_MATCHED || (double)f->matched < CLOSE * most ||
            presence(f) < FULL_TEXT)
            continue;
        if (best < 0) {
            best = (int)i;
            continue;
        }
        const rc_license_fit *b = &fits[best];
        if (cost(f) != cost(b)         ? cost(f) < cost(b)
            : f->matched != b->matched ? f->matched > b->matched
                                       : dice(f, nq) > dice(b, nq))
            best = (int)i;
    }
    return best;
}

/* Of the candidates, the license whose notice the text holds, or -1: the best fit both ways
 * (Dice: a notice picks the license whose text is about its size, not a longer variant holding
 * it) among those explaining nearly as much, of fits within FIT_TIE the one explaining more. */
static int best_notice(const rc_license_fit *fits, size_t n, size_t nq)
{
    uint32_t most = 0;
    for (size_t i = 0; i < n; i++)
        most = RC_MAX(most, fits[i].matched);
    double top = -1;
    for (size_t i = 0; i < n; i++)
        if ((double)fits[i].matched >= CLOSE * most)
            top = RC_MAX(top, dice(&fits[i], nq));
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        const rc_license_fit *f = &fits[i];
        if ((double)f->matched < CLOSE * most || dice(f, nq) < top - FIT_TIE)
            continue;
        if (best < 0 || f->matched > fits[best].matched)
            best = (int)i;
    }
    return best >= 0 && fits[best].matched >= MIN_MATCHED ? best : -1;
}

/* id with its first term's GNU version made -only or -or-later. */
static void gnu_suffix(char *out, size_t cap, const char *id, bool later)
{
    size_t n = strcspn(id, " ");
    char first[64];
    snprintf(first, sizeof first, "%.*s", (int)RC_MIN(n, sizeof first - 1), id);
    if (!rc_license_gpl_family(first)) {
        snprintf(out, cap, "%s", id);
        return;
    }
    char fam[64];
    rc_license_family_of(first, fam, sizeof fam);
    snprintf(out, cap, "%.40s-%s%s", fam, later ? "or-later" : "only", id + n);
}

/* Whether two ids are one license up to its version ("GPL-1.0-or-later", "GPL-3.0-only"). */
static bool same_name(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    while (a[na] && !(a[na] == '-' && a[na + 1] >= '0' && a[na + 1] <= '9'))
        na++;
    while (b[nb] && !(b[nb] == '-' && b[nb + 1] >= '0' && b[nb + 1] <= '9'))
        nb++;
    return na == nb && strncmp(a, b, na) == 0;
}

static bool add_term(ident *d, const char *id, bool full, bool named)
{
    for (size_t i = 0; i < d->nterms; i++)
        if (rc_license_same_family(d->terms[i].id, id))
            return false;
    if (d->nterms == MAX_TERMS)
        return false;
    term *t = &d->terms[d->nterms];
    snprintf(t->id, sizeof t->id, "%s", id);
    t->full = full;
    t->named = named;
    t->ncov = 0;
    t->cov = full ? d->covbuf + d->nterms * (d->nq + 1) : NULL;
    d->nterms++;
    if (full)
        for (size_t i = 0; i < d->nq; i++)
            t->ncov += (t->cov[i] = d->cov[i]);
    return true;
}

/* Leaves out the license texts another one explains: a text whose words are mostly another's
 * (a variant found second, a short license quoted inside a longer one: BSD clauses in the Zope
 * license), and the GPL 3 the LGPL 3 incorporates. */
static void drop_subsumed(ident *d)
{
    bool drop[MAX_TERMS] = {false};
    for (size_t i = 0; i < d->nterms; i++) {
        const term *a = &d->terms[i];
        if (!a->full || !a->ncov)
            continue;
        for (size_t j = 0; j < d->nterms && !drop[i]; j++) {
            const term *b = &d->terms[j];
            if (j == i || drop[j] || !b->full || !b->ncov)
                continue;
            size_t both = 0;
            for (size_t k = 0; k < d->nq; k++)
                both += a->cov[k] && b->cov[k];
            bool inside = (double)both >= SUBSUMED * (double)a->ncov;
            drop[i] = inside && (j < i || (double)b->ncov >= BIGGER * (double)a->ncov);
        }
        if (strncmp(a->id, "GPL-3.0", 7) == 0)
            for (size_t j = 0; j < d->nterms; j++)
                drop[i] |= d->terms[j].full && strncmp(d->terms[j].id, "LGPL-3.0", 8) == 0;
    }
    size_t keep = 0; /* the coverage stays where it is, in d->covbuf */
    for (size_t i = 0; i < d->nterms; i++)
        if (!drop[i])
            d->terms[keep++] = d->terms[i];
    d->nterms = keep;
}

/* Compares the text with the candidates the vote gives for the tokens mask marks (NULL: all);
 * *n of them in d->fits, with their `fresh` tokens: those of mask they explain. */
static int compare_all(ident *d, const uint8_t *mask, size_t *n, recite_error *err)
{
    uint32_t cands[MAX_CANDS];
    size_t nc;
    *n = 0;
    if (rc_license_vote(&nc, d->lm, mask, cands, MAX_CANDS) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = 0; i < nc; i++) {
        rc_license_fit *f = &d->fits[i];
        int rc = rc_license_compare(d->lm, cands[i], NULL, d->cov, f, err);
        if (rc != RECITE_OK)
            return rc;
        f->fresh = 0;
        for (size_t k = 0; k < d->nq; k++)
            f->fresh += d->cov[k] && (!mask || mask[k]);
    }
    *n = nc;
    return RECITE_OK;
}

/* Whether every license id of the term is one the license index has (mentions and GNU suffixes
 * make ids: "GPL-2.1-or-later" does not exist). */
static bool valid_term(const rc_license_matcher *lm, const char *id)
{
    char t[64];
    for (size_t i = 0; rc_license_term(id, i, t, sizeof t); i++)
        if (!rc_license_known(lm, t, strlen(t)))
            return false;
    return true;
}

/* The terms as one expression in out: joined with OR or AND (a term that is itself an OR
 * expression in parentheses under AND), the exceptions added to the terms of their family;
 * terms that do not fit in cap are left out. */
static void expression(ident *d, bool dual, bool names_or, const rc_license_exception *exc,
                       size_t nexc, char *out, size_t cap)
{
    for (size_t e = 0; e < nexc; e++)
        for (size_t i = 0; i < d->nterms; i++) {
            term *t = &d->terms[i];
            bool gnu = strncmp(exc[e].base, "GPL", 3) == 0;
            bool fits = gnu ? (strncmp(t->id, "GPL-", 4) == 0 || strncmp(t->id, "LGPL-", 5) == 0 ||
                               strncmp(t->id, "AGPL-", 5) == 0)
                            : strncmp(t->id, exc[e].base, strlen(exc[e].base)) == 0;
            if (!fits || strstr(t->id, " WITH ") || strstr(t->id, " OR "))
                continue;
            size_t n = strlen(t->id);
            if (n + 6 + strlen(exc[e].id) < sizeof t->id)
                snprintf(t->id + n, sizeof t->id - n, " WITH %s", exc[e].id);
            break;
        }
    /* License texts (AND) and names (OR when offered as alternatives), "A AND (B OR C)";
     * everything OR when the text offers the choice. Terms that do not fit are left out. */
    for (size_t n = d->nterms; n > 0; n--) {
        char buf[256] = "";
        size_t m = 0, nfull = 0, nnamed = 0;
        for (size_t i = 0; i < n; i++)
            nfull += d->terms[i].full;
        nnamed = n - nfull;
        /* license texts and several names offered as alternatives: "A AND (B OR C)"; else
         * one choice, or none, between them all */
        bool group = nfull && nnamed > 1 && names_or;
        bool or_all = !group && (dual || (names_or && !nfull));
        for (size_t pass = 0; pass < 2; pass++) /* texts, then names */
            for (size_t i = 0, k = 0; i < n; i++) {
                const term *t = &d->terms[i];
                if (t->full != (pass == 0))
                    continue;
                const char *join = or_all || (group && pass == 1 && k) ? " OR " : " AND ";
                bool inner_or = strstr(t->id, " OR ") != NULL;
                bool paren = inner_or && n > 1 && !or_all && !(group && pass == 1);
                m += (size_t)snprintf(buf + m, sizeof buf - m, "%s%s%s%.63s%s", m ? join : "",
                                      group && pass == 1 && k == 0 ? "(" : "", paren ? "(" : "",
                                      t->id, paren ? ")" : "");
                k++;
                if (m >= sizeof buf)
                    m = sizeof buf - 1;
            }
        if (group && m + 1 < sizeof buf)
            buf[m++] = ')', buf[m] = 0;
        if (m < cap) {
            memcpy(out, buf, m + 1);
            return;
        }
    }
    out[0] = 0;
}

int rc_license_identify(rc_license_id *out, rc_license_matcher *lm, const char *text, size_t len,
                        recite_error *err)
{
    memset(out, 0, sizeof *out);
    if (!lm || len == 0)
        return RECITE_OK;
    int rc = rc_license_lookup(lm, text, len, err);
    if (rc != RECITE_OK)
        return rc;
    const recite_index *lic = rc_license_index(lm);
    ident d = {.lm = lm};
    rc_license_tokens(lm, &d.nq);
    d.mask = malloc(d.nq + 1);
    d.cov = malloc(d.nq + 1);
    d.best_cov = calloc(d.nq + 1, 1);
    d.covbuf = malloc(MAX_TERMS * (d.nq + 1));
    char *words = malloc(len + 1);
    char *rest = malloc(len + 1);
    if (!d.mask || !d.cov || !d.best_cov || !d.covbuf || !words || !rest) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto done;
    }
    memset(d.mask, 1, d.nq + 1);

    /* 1. The license texts the text holds, one after another in what the previous ones leave. */
    rc_license_fit first_fits[MAX_CANDS];
    size_t nfirst = 0;
    uint64_t full_start = UINT64_MAX, full_end = 0;
    for (size_t round = 0; round < MAX_TERMS; round++) {
        size_t n;
        if ((rc = compare_all(&d, round ? d.mask : NULL, &n, err)) != RECITE_OK)
            goto done;
        if (round > 0) /* what each explains that the texts found before do not */
            for (size_t i = 0; i < n; i++)
                d.fits[i].matched = d.fits[i].fresh;
        if (round == 0) {
            memcpy(first_fits, d.fits, n * sizeof *d.fits);
            nfirst = n;
            for (size_t i = 0; i < n && d.nq; i++)
                out->text_share =
                    RC_MAX(out->text_share, RC_MIN(1.0, (double)d.fits[i].matched / (double)d.nq));
        }
        int b = best_full(d.fits, n, d.nq);
        if (b < 0 || (round > 0 && d.fits[b].matched < MORE_MATCHED)) {
            /* No license text: a notice, perhaps with a short license text after it (a GPL
             * notice, then a permission notice): look again in what the notice leaves. */
            int nb0 = round == 0 ? best_notice(d.fits, n, d.nq) : -1;
            if (nb0 < 0 || (rc = rc_license_compare(lm, d.fits[nb0].cluster, NULL, d.cov,
                                                    &d.fits[nb0], err)) != RECITE_OK)
                break;
            for (size_t i = 0; i < d.nq; i++)
                d.mask[i] &= !d.cov[i];
            continue;
        }
        const rc_license_fit *f = &d.fits[b];
        rc = rc_license_compare(lm, f->cluster, NULL, d.cov, &d.fits[b], err);
        if (rc != RECITE_OK)
            goto done;
        if (!add_term(&d, license_of(lic, f->cluster), true, false))
            break;
        d.terms[d.nterms - 1].start = f->start;
        d.terms[d.nterms - 1].end = f->end;
        for (size_t i = 0; i < d.nq; i++)
            d.mask[i] &= !d.cov[i];
        if (round == 0) {
            /* the variants the text fits nearly as well (BSD, MIT families) */
            for (size_t i = 0; i < n && out->nalt < RC_LICENSE_MAX_ALT; i++)
                if ((double)d.fits[i].matched >= CLOSE * f->matched &&
                    presence(&d.fits[i]) >= FULL_TEXT)
                    snprintf(out->alt[out->nalt++], sizeof out->alt[0], "%s",
                             license_of(lic, d.fits[i].cluster));
        }
    }
    if (rc != RECITE_OK)
        goto done;
    drop_subsumed(&d);
    for (size_t t = 0; t < d.nterms; t++) {
        full_start = RC_MIN(full_start, d.terms[t].start);
        full_end = RC_MAX(full_end, d.terms[t].end);
        for (size_t i = 0; i < d.nq; i++)
            d.best_cov[i] |= d.terms[t].cov[i];
    }
    bool full = d.nterms > 0;

    /* 2. What the words say: outside the license texts, the licenses named; anywhere, the
     * exceptions granted and whether the text offers a choice. */
    rc_license_mention mentions[MAX_MENTIONS];
    size_t nm = 0;
    if (full) {
        /* the parts before and after the license texts, when they say something of their own
         * (not a title: "X11 License") */
        size_t s = RC_MIN((size_t)full_start, len), e = RC_MIN((size_t)full_end, len);
        size_t nt = 0;
        const rc_token *qt = rc_license_tokens(lm, &nt);
        size_t before = 0, after = 0;
        for (size_t i = 0; i < nt; i++) {
            before += qt[i].end <= s && !d.best_cov[i];
            after += qt[i].start >= e && !d.best_cov[i];
        }
        size_t nr = 0;
        if (before >= OWN_WORDS) {
            memcpy(rest, text, s);
            rest[s] = '\n';
            nr = s + 1;
        }
        if (after >= OWN_WORDS) {
            memcpy(rest + nr, text + e, len - e);
            nr += len - e;
        }
        rc_license_words(rest, nr, words, len + 1);
        nm = rc_license_mentions(words, mentions, MAX_MENTIONS);
    } else {
        rc_license_words(text, len, words, len + 1);
        nm = rc_license_mentions(words, mentions, MAX_MENTIONS);
    }
    bool names_or = rc_license_names_or(words, mentions, nm) || (full && rc_license_dual(words));
    rc_license_words(text, len, words, len + 1);
    rc_license_exception exc[MAX_EXCEPTIONS];
    size_t nexc = rc_license_exceptions(words, exc, MAX_EXCEPTIONS);
    bool dual = rc_license_dual(words);
    bool later = rc_license_or_later((const uint8_t *)text, len);

    /* 3. The notice: without a license text, the licenses named, else the license whose
     * notice the text holds. */
    int nb = full ? -1 : best_notice(first_fits, nfirst, d.nq);
    const char *notice_lic = nb >= 0 ? license_of(lic, first_fits[nb].cluster) : "";
    double notice_score = nb >= 0 && d.nq ? (double)first_fits[nb].matched / (double)d.nq : 0;
    bool notice_ok = nb >= 0 && notice_score >= MIN_SCORE;
    for (size_t i = 0; i < d.nterms; i++) {
        /* a license text is the version it is; "or later" said outside it makes it so */
        bool or_later = false;
        for (size_t k = 0; k < nm; k++)
            or_later |= rc_license_same_family(mentions[k].id, d.terms[i].id) &&
                        strstr(mentions[k].id, "-or-later") && mentions[k].versioned;
        if (strstr(d.terms[i].id, " WITH ")) /* a text with its exception: as listed */
            continue;
        char id[64];
        gnu_suffix(id, sizeof id, d.terms[i].id, or_later);
        snprintf(d.terms[i].id, sizeof d.terms[i].id, "%s", id);
    }
    for (size_t k = 0; k < nm; k++) {
        if (!valid_term(lm, mentions[k].id) || (full && !mentions[k].versioned))
            continue;
        if (!mentions[k].versioned && notice_ok && same_name(mentions[k].id, notice_lic)) {
            /* "the GNU General Public License" with no version, in words of the GPL 3 (its
             * preamble quoted): the version is the text's */
            char id[64];
            gnu_suffix(id, sizeof id, notice_lic, later);
            add_term(&d, id, false, false);
            continue;
        }
        add_term(&d, mentions[k].id, false, true);
    }
    if (d.nterms == 0 && notice_ok) {
        char id[64];
        gnu_suffix(id, sizeof id, notice_lic, later);
        add_term(&d, id, false, false);
    }
    /* Drop what the license index does not know. */
    size_t keep = 0;
    for (size_t i = 0; i < d.nterms; i++)
        if (valid_term(lm, d.terms[i].id))
            d.terms[keep++] = d.terms[i];
    d.nterms = keep;
    if (d.nterms == 0) {
        out->nalt = 0;
        goto done;
    }
    expression(&d, dual, names_or, exc, nexc, out->id, sizeof out->id);

    /* 4. Score, origin and where the license is. */
    const term *t0 = &d.terms[0];
    out->full_text = t0->full;
    out->from = t0->full ? RECITE_FROM_TEXT : RECITE_FROM_HEADER;
    if (full) {
        size_t covered = 0;
        for (size_t i = 0; i < d.nq; i++)
            covered += d.best_cov[i];
        out->score = d.nq ? RC_MIN(1.0, (double)covered / (double)d.nq) : 0;
        out->start = full_start;
        out->end = full_end;
    } else {
        bool same = notice_ok && rc_license_same_family(t0->id, notice_lic);
        out->score = same || (!t0->named && notice_ok) ? RC_MIN(1.0, notice_score) : 0;
        if (nb >= 0) {
            out->start = first_fits[nb].start;
            out->end = first_fits[nb].end;
        }
        out->nalt = 0;
        if (!t0->named || same)
            for (size_t i = 0; i < nfirst && out->nalt < RC_LICENSE_MAX_ALT; i++)
                if ((double)first_fits[i].matched >= CLOSE * first_fits[nb].matched)
                    snprintf(out->alt[out->nalt++], sizeof out->alt[0], "%s",
                             license_of(lic, first_fits[i].cluster));
    }
    if (d.nterms > 1 || nexc)
        out->nalt = 0;
done:
    free(d.mask);
    free(d.cov);
    free(d.best_cov);
    free(d.covbuf);
    free(words);
    free(rest);
    return rc;
}
