/*
 * cli_license.c — `recite license [--json] [--mode prose|code|auto] FILE...`: the license and
 * copyright notices of each file, as `recite index` records them for a work (an SPDX tag, else
 * the license its header states or is). Uses only include/recite.h; main.c dispatches here.
 * Exit status 0; 1 when some files were skipped (binary: reported on their own line, the others
 * identified); 2 with one `recite: ...` line on stderr (nothing printed on stdout) for an
 * unreadable file or a usage error.
 */
#include "cli.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char license_usage[] =
    "usage: recite license [--json] [--mode prose|code|auto] FILE|-...\n"
    "\n"
    "The license of each FILE as `recite index` identifies it: its SPDX-License-Identifier\n"
    "tag, else the license its header states (or the license text it is), matched against\n"
    "the license texts of this machine, with a score (the share of the header's words that\n"
    "are the license's); and its copyright notices. --mode: how to find the header (code: the\n"
    "leading comments; prose: the start of the text; auto, the default: by file extension).\n"
    "\n"
    "A binary FILE (NUL bytes) is skipped: its line says so, the others are identified.\n"
    "\n"
    "exit status: 0 done, 1 some FILEs were skipped (binary), 2 error\n";

static int usage_error(const char *msg, const char *arg)
{
    cli_error("license: %s%s%s (see recite license --help)", msg, arg ? " " : "", arg ? arg : "");
    return EXIT_USAGE;
}

/* ==== output ==== */

static void print_json(const char *name, const recite_license_info *li)
{
    bool known = li->license[0] != 0;
    fputs("{\"file\":", stdout);
    cli_json_str(stdout, name);
    fputs(",\"license\":", stdout);
    cli_json_str(stdout, known ? li->license : NULL);
    if (known)
        printf(",\"score\":%.4f,\"from\":", li->score);
    else
        fputs(",\"score\":null,\"from\":", stdout);
    cli_json_str(stdout, known ? recite_info_source_name(li->from) : NULL);
    printf(",\"full_text\":%s,\"copyright\":[", li->full_text ? "true" : "false");
    for (unsigned i = 0; i < li->ncopyright; i++) {
        if (i)
            putchar(',');
        cli_json_str(stdout, li->copyright[i]);
    }
    fputs("],\"spdx_tag\":", stdout);
    cli_json_str(stdout, li->spdx_tag[0] ? li->spdx_tag : NULL);
    putchar('}');
}

static void print_text(const char *name, const recite_license_info *li)
{
    if (li->license[0])
        printf("%s: %s (score %.2f, from %s)", name, li->license, li->score,
               recite_info_source_name(li->from));
    else
        printf("%s: unknown", name);
    for (unsigned i = 0; i < li->ncopyright; i++)
        printf("%s%s", i ? "; " : "  ", li->copyright[i]);
    putchar('\n');
}

/* ==== the command ==== */

int cli_license(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, 0, 'J'},
                                         {"mode", required_argument, 0, 'M'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bool json = false;
    recite_mode mode = RECITE_MODE_AUTO;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'J': json = true; break;
        case 'M':
            if (strcmp(optarg, "prose") == 0)
                mode = RECITE_MODE_PROSE;
            else if (strcmp(optarg, "code") == 0)
                mode = RECITE_MODE_CODE;
            else if (strcmp(optarg, "auto") == 0)
                mode = RECITE_MODE_AUTO;
            else
                return usage_error("--mode expects prose, code or auto, not", optarg);
            break;
        case 'h': fputs(license_usage, stdout); return 0;
        case ':': return usage_error("option needs a value:", argv[optind - 1]);
        default: return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("no FILE", NULL);

    size_t n = (size_t)(argc - optind);
    cli_input *in = calloc(n, sizeof *in);
    recite_license_info *li = malloc(sizeof *li);
    recite_license_checker *lc = NULL;
    bool *binary = NULL; /* inputs skipped as binary */
    size_t skipped = 0;
    recite_error err = {0};
    int status = EXIT_USAGE;
    if (!in || !li) {
        fprintf(stderr, "recite: out of memory\n");
        goto done;
    }
    /* Every input is read first: an unreadable one fails the run before anything is printed; a
     * binary one (cli_read_input says so on stderr) is skipped. */
    binary = calloc(n, sizeof *binary);
    if (!binary) {
        fprintf(stderr, "recite: out of memory\n");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (cli_read_input(argv[optind + (int)i], &in[i]))
            continue;
        if (!in[i].data || !memchr(in[i].data, 0, in[i].len < 8000 ? in[i].len : 8000))
            goto done;
        binary[i] = true;
        skipped++;
        free(in[i].data);
        in[i].data = NULL;
    }
    cli_env env;
    cli_env_read(&env);
    recite_license_options lopt = RECITE_LICENSE_OPTIONS_INIT;
    lopt.cache_dir = env.license_cache_dir;
    lopt.spdx_dir = env.spdx_dir;
    lopt.tmp_dir = getenv("TMPDIR");
    int lrc = recite_license_checker_create(&lc, &lopt, &err);
    cli_env_free(&env);
    if (lrc != RECITE_OK) {
        cli_fail(&err);
        goto done;
    }
    if (json && n > 1)
        putchar('[');
    for (size_t i = 0; i < n; i++) {
        if (json && i)
            putchar(',');
        if (binary[i]) {
            if (json) {
                fputs("{\"file\":", stdout);
                cli_json_str(stdout, in[i].name);
                fputs(",\"skipped\":\"binary\"}", stdout);
            } else {
                printf("%s: skipped (binary)\n", in[i].name);
            }
            continue;
        }
        if (recite_license_identify(li, lc, strcmp(in[i].name, "-") == 0 ? NULL : in[i].name,
                                    in[i].data, in[i].len, mode, &err) != RECITE_OK) {
            fflush(stdout);
            cli_fail(&err);
            goto done;
        }
        if (json)
            print_json(in[i].name, li);
        else
            print_text(in[i].name, li);
        free(in[i].data); /* done with it: long lists need not stay in memory */
        in[i].data = NULL;
    }
    if (json)
        fputs(n > 1 ? "]\n" : "\n", stdout);
    status = cli_finish_output();
    if (status == 0 && skipped)
        status = 1;
done:
    for (size_t i = 0; in && i < n; i++)
        free(in[i].data);
    free(in);
    free(binary);
    free(li);
    recite_license_checker_free(lc);
    return status;
}
