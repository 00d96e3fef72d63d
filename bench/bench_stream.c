/*
 * bench_stream.c — the cost of streaming verdicts, single thread.
 *
 *   bench_stream INDEX_DIR LIST [PASSES]
 *
 * Reads every output named in LIST and makes a second set from it with the words of each output
 * shuffled (no run of library text survives: "text with no matches"). For each set, in the same
 * run, alternating, PASSES times (default 3; the best pass counts, the machine is shared):
 *   batch   recite_check_text of the whole output;
 *   feed    the output fed a word at a time (pieces end after each space), finish at the end;
 *   poll    the same with recite_checker_poll after every piece.
 * Prints one JSON object: per set, ns per token of each mode (feed and poll also without their
 * finish: the incremental cost while the text streams in), the poll latency percentiles per
 * piece in microseconds, events and the leak bound. Exits 2 on any error.
 */
#define _POSIX_C_SOURCE 200809L
#include "recite.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 0x2545F4914F6CDD1DULL;
}

/* The words of d (runs between spaces) in a random order, joined by spaces. */
static doc shuffled(const doc *d)
{
    size_t nw = 0, cap = 64;
    char **w = malloc(cap * sizeof *w);
    size_t *wl = malloc(cap * sizeof *wl);
    for (size_t i = 0; i < d->len && w && wl;) {
        while (i < d->len && (d->text[i] == ' ' || d->text[i] == '\n'))
            i++;
        size_t s = i;
        while (i < d->len && d->text[i] != ' ' && d->text[i] != '\n')
            i++;
        if (i > s) {
            if (nw == cap) {
                cap *= 2;
                w = realloc(w, cap * sizeof *w);
                wl = realloc(wl, cap * sizeof *wl);
                if (!w || !wl)
                    break;
            }
            w[nw] = d->text + s;
            wl[nw++] = i - s;
        }
    }
    doc out = {malloc(d->len + nw + 1), 0};
    for (size_t i = nw; i > 1 && w && wl; i--) {
        size_t j = (size_t)(rnd() % i);
        char *t = w[i - 1];
        size_t tl = wl[i - 1];
        w[i - 1] = w[j];
        wl[i - 1] = wl[j];
        w[j] = t;
        wl[j] = tl;
    }
    for (size_t i = 0; i < nw && out.text; i++) {
        memcpy(out.text + out.len, w[i], wl[i]);
        out.len += wl[i];
        out.text[out.len++] = ' ';
    }
    if (out.text)
        out.text[out.len] = 0;
    free(w);
    free(wl);
    return out;
}

typedef struct stats {
    double batch, feed, feed_nofinish, poll, poll_nofinish; /* seconds, best pass */
    uint64_t tokens, events, pieces;
    double *lat; /* per poll, seconds (last pass) */
    size_t nlat;
} stats;

static int run_set(recite_checker *c, const doc *docs, size_t n, int passes, stats *st)
{
    recite_error err = {0};
    const recite_result *res;
    memset(st, 0, sizeof *st);
    st->batch = st->feed = st->feed_nofinish = st->poll = st->poll_nofinish = 1e30;
    size_t maxpieces = 0;
    for (size_t i = 0; i < n; i++)
        maxpieces += docs[i].len / 2 + 1;
    st->lat = malloc(maxpieces * sizeof *st->lat);
    if (!st->lat)
        return 2;
    for (int pass = 0; pass <= passes; pass++) { /* pass 0: warm-up */
        double t0 = now();
        uint64_t tokens = 0;
        for (size_t i = 0; i < n; i++) {
            if (recite_check_text(&res, c, docs[i].text, docs[i].len, &err) != RECITE_OK)
                goto fail;
            tokens += res->tokens;
        }
        double tb = now() - t0;
        for (int mode = 0; mode < 2; mode++) {
            double total = 0, nofinish = 0;
            uint64_t events = 0, pieces = 0;
            size_t nlat = 0;
            for (size_t i = 0; i < n; i++) {
                const char *s = docs[i].text;
                size_t len = docs[i].len;
                double a = now();
                for (size_t at = 0; at < len;) {
                    const char *sp = memchr(s + at, ' ', len - at);
                    size_t k = sp ? (size_t)(sp - (s + at)) + 1 : len - at;
                    if (recite_checker_feed(c, s + at, k, &err) != RECITE_OK)
                        goto fail;
                    at += k;
                    pieces++;
                    if (mode == 1) {
                        recite_poll p;
                        double pa = now();
                        if (recite_checker_poll(&p, c, &err) != RECITE_OK)
                            goto fail;
                        st->lat[nlat++] = now() - pa;
                        events += p.nevents;
                    }
                }
                double b = now();
                if (recite_checker_finish(&res, c, &err) != RECITE_OK)
                    goto fail;
                nofinish += b - a;
                total += now() - a;
            }
            if (pass == 0)
                continue;
            if (mode == 0 && total < st->feed) {
                st->feed = total;
                st->feed_nofinish = nofinish;
            }
            if (mode == 1 && total < st->poll) {
                st->poll = total;
                st->poll_nofinish = nofinish;
                st->events = events;
                st->nlat = nlat;
            }
            st->pieces = pieces;
        }
        if (pass > 0 && tb < st->batch)
            st->batch = tb;
        st->tokens = tokens;
    }
    return 0;
fail:
    fprintf(stderr, "bench_stream: %s\n", err.message);
    return 2;
}

static void print_set(const char *name, const stats *st, int last)
{
    double tok = st->tokens ? (double)st->tokens : 1.0;
    qsort(st->lat, st->nlat, sizeof *st->lat, cmp_double);
    double p50 = st->nlat ? st->lat[st->nlat / 2] : 0, p99 = st->nlat ? st->lat[st->nlat * 99 / 100] : 0;
    double mx = st->nlat ? st->lat[st->nlat - 1] : 0;
    printf("  \"%s\": {\"tokens\": %llu, \"pieces\": %llu, \"events\": %llu,\n"
           "    \"ns_per_token\": {\"batch\": %.1f, \"feed\": %.1f, \"feed_before_finish\": %.1f, "
           "\"feed_poll\": %.1f, \"feed_poll_before_finish\": %.1f},\n"
           "    \"poll_us\": {\"p50\": %.2f, \"p99\": %.2f, \"max\": %.1f}}%s\n",
           name, (unsigned long long)st->tokens, (unsigned long long)st->pieces,
           (unsigned long long)st->events, st->batch / tok * 1e9, st->feed / tok * 1e9,
           st->feed_nofinish / tok * 1e9, st->poll / tok * 1e9, st->poll_nofinish / tok * 1e9,
           p50 * 1e6, p99 * 1e6, mx * 1e6, last ? "" : ",");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_stream INDEX_DIR LIST [PASSES]\n");
        return 2;
    }
    int passes = argc > 3 ? atoi(argv[3]) : 3;
    size_t listlen;
    char *list = read_file(argv[2], &listlen);
    if (!list) {
        fprintf(stderr, "bench_stream: cannot read %s\n", argv[2]);
        return 2;
    }
    size_t n = 0, cap = 256;
    doc *docs = malloc(cap * sizeof *docs), *shuf = NULL;
    for (char *line = strtok(list, "\n"); line && docs; line = strtok(NULL, "\n")) {
        if (n == cap)
            docs = realloc(docs, (cap *= 2) * sizeof *docs);
        if (!docs)
            break;
        if (!(docs[n].text = read_file(line, &docs[n].len))) {
            fprintf(stderr, "bench_stream: cannot read %s\n", line);
            return 2;
        }
        n++;
    }
    shuf = malloc((n + 1) * sizeof *shuf);
    for (size_t i = 0; i < n && shuf; i++)
        shuf[i] = shuffled(&docs[i]);
    recite_index *idx;
    recite_checker *c;
    recite_error err = {0};
    if (recite_index_open(&idx, argv[1], &err) != RECITE_OK ||
        recite_checker_create(&c, idx, NULL, &err) != RECITE_OK) {
        fprintf(stderr, "bench_stream: %s\n", err.message);
        return 2;
    }
    stats a, b;
    int rc = run_set(c, docs, n, passes, &a);
    if (rc == 0)
        rc = run_set(c, shuf, n, passes, &b);
    if (rc == 0) {
        printf("{\"outputs\": %zu, \"passes\": %d, \"leak_bound\": {\"prose\": %u, \"code\": %u},\n",
               n, passes, recite_checker_leak_bound(c, RECITE_MODE_PROSE),
               recite_checker_leak_bound(c, RECITE_MODE_CODE));
        print_set("outputs", &a, 0);
        print_set("no_matches", &b, 1);
        printf("}\n");
        free(a.lat);
        free(b.lat);
    }
    recite_checker_free(c);
    recite_index_close(idx);
    for (size_t i = 0; i < n; i++) {
        free(docs[i].text);
        free(shuf[i].text);
    }
    free(docs);
    free(shuf);
    free(list);
    return rc;
}
