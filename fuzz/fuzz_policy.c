/*
 * fuzz_policy.c — the policy parser (recite_policy_parse) on any bytes, and what a parsed policy
 * decides: a policy is either parsed or refused with RECITE_EFORMAT / RECITE_ELIMIT and a
 * one-line message naming the input (and a line and column for JSON errors); parsing is
 * deterministic; a parsed policy decides a real result (works with and without license and
 * source metadata, made once per process) consistently — the verdict is the most severe action
 * of the works — and the JSON and text reports under it are produced, the JSON's verdict being
 * the decision. The SPDX license list is a small one made at start (ids as file names).
 */
#include "fuzz.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *spdx_dir;
static recite_index *idx;
static recite_checker *checker;
static const recite_result *res;
static char *text;
static size_t text_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *dir = fz_tmpdir("policy");
    FZ_CHECK(asprintf(&spdx_dir, "%s/spdx", dir) > 0, "oom");
    static const char *const ids[] = {
        "MIT",          "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only",  "Apache-2.0",
        "BSD-3-Clause", "MPL-2.0",      "CC0-1.0",          "LGPL-2.1-only", "Zlib"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.json", ids[i]);
        FZ_CHECK(fz_seed(spdx_dir, name, "{}", 2) == 0, "cannot write the SPDX list");
    }
    /* Three works: a licensed one, one from a shadow library, one without metadata. */
    size_t n1, n2, n3;
    char *gpl = fz_text("/usr/share/common-licenses/GPL-3", 4000, 2500, &n1);
    char *bsd = fz_text("/usr/share/common-licenses/BSD", 0, 1500, &n2);
    char *apache = fz_text("/usr/share/common-licenses/Apache-2.0", 2000, 2500, &n3);
    json_t *w1 = json_pack("{s:s, s:s, s:s, s:s}", "id", "gpl", "text", gpl, "license",
                           "GPL-3.0-only", "source", "licensed");
    json_t *w2 = json_pack("{s:s, s:s, s:s, s:s}", "id", "bsd", "text", bsd, "license",
                           "BSD-3-Clause", "source", "shadow-library");
    json_t *w3 = json_pack("{s:s, s:s}", "id", "apache", "text", apache);
    char *l1 = json_dumps(w1, JSON_COMPACT), *l2 = json_dumps(w2, JSON_COMPACT),
         *l3 = json_dumps(w3, JSON_COMPACT), *jsonl, *works, *ix;
    FZ_CHECK(l1 && l2 && l3 && asprintf(&jsonl, "%s\n%s\n%s\n", l1, l2, l3) > 0 &&
                 asprintf(&works, "%s/works.jsonl", dir) > 0 && asprintf(&ix, "%s/idx", dir) > 0,
             "oom");
    FZ_CHECK(fz_write(works, jsonl, strlen(jsonl)) == 0, "cannot write %s", works);
    const char *paths[] = {works};
    fz_build(ix, paths, 1, RECITE_MODE_PROSE, 0, NULL, 0);
    recite_error err = {0};
    FZ_CHECK(recite_index_open(&idx, ix, &err) == RECITE_OK, "%s", err.message);
    FZ_CHECK(recite_checker_create(&checker, idx, NULL, &err) == RECITE_OK, "%s", err.message);
    /* An output quoting all three, the BSD license whole. */
    FZ_CHECK(
        asprintf(&text, "First %.600s\n\nthen %s\n\nand %.900s.", gpl + 100, bsd, apache + 300) > 0,
        "oom");
    text_len = strlen(text);
    FZ_CHECK(recite_check_text(&res, checker, text, text_len, &err) == RECITE_OK, "%s",
             err.message);
    FZ_CHECK(res->nworks == 3, "the fixture output matches %zu works, not 3", res->nworks);
    free(gpl);
    free(bsd);
    free(apache);
    free(l1);
    free(l2);
    free(l3);
    free(jsonl);
    free(works);
    free(ix);
    json_decref(w1);
    json_decref(w2);
    json_decref(w3);
    return 0;
}

static void check_decision(const recite_policy *p)
{
    recite_action actions[8];
    int rules[8];
    recite_action verdict = recite_policy_decide(actions, rules, p, idx, res);
    recite_action most = RECITE_ACTION_ALLOW;
    for (size_t i = 0; i < res->nworks; i++) {
        FZ_CHECK(actions[i] >= RECITE_ACTION_ALLOW && actions[i] <= RECITE_ACTION_BLOCK,
                 "action %d", actions[i]);
        FZ_CHECK(rules[i] >= 0 && rules[i] <= 256, "rule %d", rules[i]);
        if (actions[i] > most)
            most = actions[i];
    }
    FZ_CHECK(verdict == most, "verdict %d, most severe action %d", verdict, most);
    FZ_CHECK(recite_policy_decide(NULL, NULL, p, NULL, res) <= RECITE_ACTION_BLOCK,
             "decision without an index");

    char *json = NULL, *txt = NULL;
    recite_error err = {0};
    FZ_CHECK(recite_report_json(&json, idx, p, "out.txt", text, text_len, res, &err) == RECITE_OK,
             "report: %s", err.message);
    json_error_t jerr;
    json_t *root = json_loads(json, 0, &jerr);
    FZ_CHECK(root, "the report is not JSON: %s", jerr.text);
    const char *v = json_string_value(json_object_get(root, "verdict"));
    const char *want = verdict == RECITE_ACTION_ALLOW ? "pass" : recite_action_name(verdict);
    FZ_CHECK(v && strcmp(v, want) == 0, "report verdict %s, decided %s", v ? v : "(none)", want);
    json_decref(root);
    FZ_CHECK(recite_report_text(&txt, idx, p, "out.txt", text, text_len, res, &err) == RECITE_OK,
             "text report: %s", err.message);
    free(json);
    free(txt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    recite_policy *p = NULL, *q = NULL;
    recite_error err = {0}, err2 = {0};
    int rc = recite_policy_parse(&p, (const char *)data, size, "pol.json", spdx_dir, &err);
    int rc2 = recite_policy_parse(&q, (const char *)data, size, "pol.json", spdx_dir, &err2);
    FZ_CHECK(rc == rc2 && strcmp(err.message, err2.message) == 0, "parsing twice differs");
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%s\n", rc == RECITE_OK ? "parsed" : err.message);
    if (rc == RECITE_OK) {
        FZ_CHECK(p && q, "no policy returned");
        check_decision(p);
    } else {
        FZ_CHECK(!p, "a policy returned with an error");
        fz_check_error(rc, &err, "recite_policy_parse");
        FZ_CHECK(rc == RECITE_EFORMAT || rc == RECITE_ELIMIT, "status %d: %s", rc, err.message);
        FZ_CHECK(strncmp(err.message, "pol.json", 8) == 0,
                 "the message does not name the "
                 "policy: %s",
                 err.message);
    }
    recite_policy_free(p);
    recite_policy_free(q);
    return 0;
}

int fuzz_seeds(const char *dir)
{
    static const char *const seeds[] = {
        "{\"version\": 1, \"default\": \"flag\", \"rules\": [{\"common\": true, \"action\": "
        "\"allow\"}]}",
        "{\"version\": 1, \"comment\": \"mine\", \"default\": \"cite\", \"rules\": [\n"
        " {\"source\": \"shadow-library\", \"min_tokens\": 12, \"action\": \"block\"},\n"
        " {\"source\": [\"public-domain\", \"purchased\"], \"action\": \"allow\"},\n"
        " {\"license\": \"permissive\", \"cmi\": \"present\", \"action\": \"allow\"},\n"
        " {\"license\": [\"GPL-2.0+\", \"LicenseRef-mine.1\"], \"kind\": [\"exact\", "
        "\"normalized\"], \"min_tokens\": 50, \"action\": \"block\"},\n"
        " {\"license\": \"copyleft\", \"extent\": \"whole\", \"action\": \"block\"},\n"
        " {\"license\": \"unknown\", \"min_coverage\": 0.25, \"common\": false, \"action\": "
        "\"flag\", \"comment\": \"c\"}]}",
        "{\"version\": 1, \"rules\": [{\"license\": \"GPL-3.0-or-later\", \"action\": \"cite\"},"
        " {\"license\": \"GPL-3.0-only\", \"action\": \"block\"}]}",
        "{\"version\": 1, \"rules\": [{\"action\": \"allow\"}, {\"action\": \"allow\"}]}",
        "{\"version\": 1, \"rules\": [{\"sorce\": \"x\", \"action\": \"allow\"}]}",
        "{\"version\": 2}",
        "{\"version\": 1, \"rules\": [{\"cmi\": [\"absent\", \"altered\", \"none\"], \"kind\": "
        "\"near\", \"action\": \"block\"}, {\"min_coverage\": 1.5, \"action\": \"flag\"}]}",
        "{\"version\": 1, \"version\": 1}",
        "[1, 2, 3]",
        "{\"version\": 1, \"rules\": [{\"license\": \"MIT\", \"min_tokens\": -1, \"action\": "
        "\"allow\"}]}",
        "{\"version\": 1,\n\"rules\": [\n{\"license\": \"GPL-9.0-only\", \"action\": \"allow\"}]}",
    };
    char name[32];
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        snprintf(name, sizeof name, "seed-%02zu", i);
        if (fz_seed(dir, name, seeds[i], strlen(seeds[i])) != 0)
            return -1;
    }
    return 0;
}
