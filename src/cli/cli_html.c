/*
 * cli_html.c — `recite check --html FILE`: writes the HTML evidence report of each input
 * (recite_report_html) to FILE, or for several inputs to FILE-1.html, FILE-2.html, ... (the
 * number before the extension). Uses only include/recite.h.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* FILE for a single input; FILE with "-N" before its extension for input N of several. */
static char *html_path(const char *path, size_t i, size_t n)
{
    size_t len = strlen(path);
    char *out = malloc(len + 32);
    if (!out)
        return NULL;
    if (n <= 1) {
        memcpy(out, path, len + 1);
        return out;
    }
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    size_t stem = dot && dot > path && (!slash || dot > slash + 1) ? (size_t)(dot - path) : len;
    snprintf(out, len + 32, "%.*s-%zu%s", (int)stem, path, i + 1, path + stem);
    return out;
}

int cli_write_html(const char *path, size_t i, size_t n, const recite_index *idx,
                   const recite_policy *policy, const recite_check_options *copt,
                   const char *index_dir, const cli_input *in, const recite_result *res)
{
    recite_report_html_options opt = RECITE_REPORT_HTML_OPTIONS_INIT;
    opt.index_name = index_dir;
    opt.check_options = copt;
    opt.checked_unix = (uint64_t)time(NULL);
    recite_error err = {0};
    char *html = NULL, *file = html_path(path, i, n);
    if (!file) {
        fprintf(stderr, "recite: out of memory\n");
        return EXIT_USAGE;
    }
    if (recite_report_html(&html, idx, policy, in->name, in->data, in->len, res, &opt, &err) !=
        RECITE_OK) {
        free(file);
        return cli_fail(&err);
    }
    FILE *f = fopen(file, "wb");
    size_t len = strlen(html);
    bool ok = f && fwrite(html, 1, len, f) == len;
    int e = errno;
    if (f && fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    free(html);
    if (!ok) {
        cli_error("%s: cannot write the HTML report: %s", file, strerror(e));
        free(file);
        return EXIT_USAGE;
    }
    free(file);
    return 0;
}
