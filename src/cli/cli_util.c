/*
 * cli_util.c — helpers shared by the subcommands (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

int cli_fail(const recite_error *err)
{
    fprintf(stderr, "recite: %s\n", err->message[0] ? err->message : recite_strerror(err->code));
    return EXIT_USAGE;
}

void cli_error(const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "recite: %s\n", line);
}

int cli_finish_output(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "recite: cannot write the output: %s\n", strerror(errno));
        return EXIT_USAGE;
    }
    return 0;
}

bool cli_read_input(const char *name, cli_input *in)
{
    bool std_in = strcmp(name, "-") == 0;
    /* O_NONBLOCK: a FIFO (refused below: not a regular file) does not wait for a writer */
    int fd = std_in ? -1 : open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    FILE *f = std_in ? stdin : fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!std_in && fd >= 0 && !f)
        close(fd);
    in->name = name;
    in->data = NULL;
    in->len = 0;
    if (!f) {
        cli_error("%s: cannot open: %s", name, strerror(errno));
        return false;
    }
    struct stat st;
    if (!std_in && (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))) {
        int e = errno;
        cli_error("%s: %s", name,
                  fstat(fileno(f), &st) != 0 ? strerror(e)
                  : S_ISDIR(st.st_mode)      ? "is a directory"
                                             : "not a regular file");
        fclose(f);
        return false;
    }
    size_t cap = 0;
    bool ok = true;
    for (;;) {
        if (in->len + 65536 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 131072;
            char *p = realloc(in->data, ncap);
            if (!p) {
                cli_error("%s: out of memory", name);
                ok = false;
                break;
            }
            in->data = p;
            cap = ncap;
        }
        size_t got = fread(in->data + in->len, 1, cap - in->len - 1, f);
        in->len += got;
        if (got == 0)
            break;
    }
    if (ok && ferror(f)) {
        cli_error("%s: read error: %s", name, strerror(errno));
        ok = false;
    }
    if (!std_in)
        fclose(f);
    if (ok && memchr(in->data, 0, in->len < 8000 ? in->len : 8000)) {
        cli_error("%s: binary input (contains NUL bytes); recite reads text", name);
        ok = false;
    }
    if (ok)
        in->data[in->len] = 0;
    return ok;
}

size_t cli_utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    utf8proc_int32_t c;
    utf8proc_ssize_t len = utf8proc_iterate(s, (utf8proc_ssize_t)(n < 4 ? n : 4), &c);
    *cp = len > 0 ? (unsigned)c : s[0];
    return len > 0 ? (size_t)len : 0;
}

unsigned cli_cp1252(unsigned char b)
{
    static const unsigned short c1[32] = {
        0x20ac, 0x81,   0x201a, 0x192,  0x201e, 0x2026, 0x2020, 0x2021, 0x2c6,  0x2030, 0x160,
        0x2039, 0x152,  0x8d,   0x17d,  0x8f,   0x90,   0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
        0x2013, 0x2014, 0x2dc,  0x2122, 0x161,  0x203a, 0x153,  0x9d,   0x17e,  0x178};
    return b >= 0x80 && b < 0xa0 ? c1[b - 0x80] : b;
}

void cli_json_mem(FILE *f, const char *s, size_t n)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        const unsigned char *p = (const unsigned char *)s + i;
        unsigned cp;
        size_t len = cli_utf8_seq(p, n - i, &cp);
        if (len == 0) {
            fprintf(f, "\\u%04x", cli_cp1252(*p));
            i++;
            continue;
        }
        if (cp == '"' || cp == '\\')
            fprintf(f, "\\%c", (char)cp);
        else if (cp == '\n')
            fputs("\\n", f);
        else if (cp == '\t')
            fputs("\\t", f);
        else if (cp == '\r')
            fputs("\\r", f);
        else if (cp < 0x20 || cp == 0x7f)
            fprintf(f, "\\u%04x", cp);
        else
            fwrite(p, 1, len, f);
        i += len;
    }
    fputc('"', f);
}

void cli_json_str(FILE *f, const char *s)
{
    cli_json_mem(f, s, s ? strlen(s) : 0);
}

/* ==== environment ==== */

void cli_env_read(cli_env *env)
{
    memset(env, 0, sizeof *env);
    const char *e = getenv("RECITE_CACHE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (e && *e)
        env->license_cache_dir = strdup(e);
    else if (xdg && *xdg && asprintf(&env->license_cache_dir, "%s/recite", xdg) < 0)
        env->license_cache_dir = NULL;
    else if (!(xdg && *xdg) && home && *home &&
             asprintf(&env->license_cache_dir, "%s/.cache/recite", home) < 0)
        env->license_cache_dir = NULL;
    const char *spdx = getenv("RECITE_SPDX_DIR");
    env->spdx_dir = spdx && *spdx ? spdx : NULL;
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end;
        unsigned long long v = strtoull(sde, &end, 10);
        if (!*end)
            env->created_unix = v;
    }
}

void cli_env_free(cli_env *env)
{
    free(env->license_cache_dir);
    env->license_cache_dir = NULL;
}
