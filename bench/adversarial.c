/*
 * adversarial.c — time per request on texts made to be slow (bench/adversarial.sh runs it; a
 * benchmark, not a test): constructs that never close (a slash-star and a space repeated, a
 * quote and a backslash repeated, one unclosed comment at the start), spaces after a hyphen,
 * plain code as the baseline; each checked at size n and 4n, whole (recite_check_text) and
 * streamed in small feeds. The growth ratio t(4n)/t(n) tells linear (about 4) from quadratic
 * (about 16).
 *   adversarial INDEX_DIR [KB]     (KB: the smaller size, default 64)
 */
#define _POSIX_C_SOURCE 200809L
#include <recite.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The text: `head` once, then `pat` repeated to n bytes. */
static char *make(const char *head, const char *pat, size_t n)
{
    char *t = malloc(n);
    size_t hl = strlen(head), pl = strlen(pat);
    for (size_t i = 0; i < n; i++)
        t[i] = i < hl ? head[i] : pat[(i - hl) % pl];
    return t;
}

static double run(recite_checker *c, const char *t, size_t n, size_t feed)
{
    recite_error err;
    const recite_result *r;
    double t0 = now();
    if (!feed) {
        recite_check_text(&r, c, t, n, &err);
    } else {
        for (size_t o = 0; o < n; o += feed)
            recite_checker_feed(c, t + o, o + feed < n ? feed : n - o, &err);
        recite_checker_finish(&r, c, &err);
    }
    return now() - t0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s INDEX_DIR [KB]\n", argv[0]);
        return 2;
    }
    recite_index *idx;
    recite_checker *c;
    recite_error err;
    if (recite_index_open(&idx, argv[1], &err) != RECITE_OK ||
        recite_checker_create(&c, idx, NULL, &err) != RECITE_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    size_t n = (size_t)(argc > 2 ? atoi(argv[2]) : 64) * 1024;
    static const struct {
        const char *name, *head, *pat;
    } cases[] = {
        {"plain code (baseline)", "", "int x = y + z; "},
        {"slash-star-space repeated", "", "/* "},
        {"quote-backslash repeated", "", "\"\\"},
        {"one unclosed comment", "/*", "int x = y + z; "},
        {"hyphen, then spaces", "a-", " "},
    };
    static const size_t feeds[] = {0, 16, 1};
    printf("%-28s %-10s %10s %10s %7s\n", "text", "feeds", "t(n) s", "t(4n) s", "ratio");
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        for (size_t f = 0; f < sizeof feeds / sizeof *feeds; f++) {
            char *a = make(cases[k].head, cases[k].pat, n);
            char *b = make(cases[k].head, cases[k].pat, 4 * n);
            double ta = run(c, a, n, feeds[f]), tb = run(c, b, 4 * n, feeds[f]);
            char how[16];
            snprintf(how, sizeof how, feeds[f] ? "%zu B" : "whole", feeds[f]);
            printf("%-28s %-10s %10.4f %10.4f %7.1f\n", cases[k].name, how, ta, tb,
                   ta > 0 ? tb / ta : 0.0);
            free(a);
            free(b);
        }
    recite_checker_free(c);
    recite_index_close(idx);
    return 0;
}
