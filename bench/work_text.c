/*
 * work_text.c — the text of works as an index holds it (after extraction: an HTML page's text,
 * not its markup), for bench/report.py, which checks reported source offsets against it.
 *
 *   work_text INDEX_DIR
 *
 * Reads work numbers from stdin, one a line; for each, writes its text's length in decimal, a
 * newline, then the text's bytes (all of them; 0 and no bytes for a number that is no work or
 * a text-free index). Flushes after each, so a caller may ask one at a time. Exits 2 when the
 * index cannot be opened.
 */
#define _POSIX_C_SOURCE 200809L
#include <recite.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: work_text INDEX_DIR < work numbers\n");
        return 2;
    }
    recite_index *idx;
    recite_error err = {0};
    if (recite_index_open(&idx, argv[1], &err) != RECITE_OK) {
        fprintf(stderr, "work_text: %s\n", err.message);
        return 2;
    }
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        unsigned long w = strtoul(line, NULL, 10);
        recite_work_info info;
        char *text = NULL;
        size_t len = 0;
        if (w >= recite_index_work_count(idx) || recite_index_work(&info, idx, (uint32_t)w) != RECITE_OK ||
            recite_index_work_text(&text, &len, idx, (uint32_t)w, 0, info.bytes, &err) != RECITE_OK)
            len = 0;
        printf("%zu\n", len);
        fwrite(text, 1, len, stdout);
        fflush(stdout);
        free(text);
    }
    recite_index_close(idx);
    return 0;
}
