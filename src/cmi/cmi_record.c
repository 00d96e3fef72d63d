/*
 * cmi_record.c — the CMI of a work as stored with it in the index (work string RC_WS_CMI): a
 * JSON object {"notices": [{text, holder, years: [min, max], start, end}], "spdx", "license":
 * {id, score, from}, "rights_reserved", "title", "author"}, written by the builder and read by
 * the CMI verdicts, here next to each other.
 */
#include "rc_cmi.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int rc_cmi_record_write(char **out, const rc_cmi *cmi, const rc_license_id *id)
{
    *out = NULL;
    if (!cmi->nnotices && !id->id[0] && !cmi->rights_reserved && !cmi->title[0] && !cmi->author[0])
        return RECITE_OK; /* nothing to record */
    json_t *o = json_object(), *ns = json_array();
    if (!o || !ns) {
        json_decref(o);
        json_decref(ns);
        return RECITE_ENOMEM;
    }
    for (unsigned i = 0; i < cmi->nnotices; i++) {
        const rc_notice *nt = &cmi->notices[i];
        json_t *n = json_pack("{s:s, s:s, s:[i,i], s:I, s:I}", "text", nt->text, "holder",
                              nt->holder, "years", (int)nt->year_min, (int)nt->year_max, "start",
                              (json_int_t)nt->start, "end", (json_int_t)nt->end);
        if (n)
            json_array_append_new(ns, n);
    }
    json_object_set_new(o, "notices", ns);
    if (cmi->spdx[0])
        json_object_set_new(o, "spdx", json_string(cmi->spdx));
    if (id->id[0])
        json_object_set_new(o, "license",
                            json_pack("{s:s, s:f, s:s}", "id", id->id, "score", id->score, "from",
                                      recite_info_source_name(id->from)));
    json_object_set_new(o, "rights_reserved", json_boolean(cmi->rights_reserved));
    if (cmi->title[0])
        json_object_set_new(o, "title", json_string(cmi->title));
    if (cmi->author[0])
        json_object_set_new(o, "author", json_string(cmi->author));
    *out = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    return *out ? RECITE_OK : RECITE_ENOMEM;
}

int rc_cmi_record_read(const char *json, rc_cmi *cmi, rc_license_id *id)
{
    memset(cmi, 0, sizeof *cmi);
    memset(id, 0, sizeof *id);
    if (!json)
        return RECITE_OK;
    json_t *root = json_loads(json, 0, NULL);
    if (!root)
        return RECITE_EFORMAT;
    json_t *l = json_object_get(root, "license");
    if (json_is_string(json_object_get(l, "id"))) {
        snprintf(id->id, sizeof id->id, "%s", json_string_value(json_object_get(l, "id")));
        id->score = json_number_value(json_object_get(l, "score"));
        id->from = rc_info_source_of(json_string_value(json_object_get(l, "from")));
    }
    json_t *ns = json_object_get(root, "notices");
    size_t k;
    json_t *n;
    json_array_foreach(ns, k, n)
    {
        if (cmi->nnotices >= RC_CMI_MAX_NOTICES)
            break;
        rc_notice *nt = &cmi->notices[cmi->nnotices++];
        const char *text = json_string_value(json_object_get(n, "text"));
        const char *holder = json_string_value(json_object_get(n, "holder"));
        snprintf(nt->text, sizeof nt->text, "%s", text ? text : "");
        snprintf(nt->holder, sizeof nt->holder, "%s", holder ? holder : "");
        json_t *y = json_object_get(n, "years");
        nt->year_min = (unsigned)json_integer_value(json_array_get(y, 0));
        nt->year_max = (unsigned)json_integer_value(json_array_get(y, 1));
        nt->start = (uint64_t)json_integer_value(json_object_get(n, "start"));
        nt->end = (uint64_t)json_integer_value(json_object_get(n, "end"));
    }
    const char *spdx = json_string_value(json_object_get(root, "spdx"));
    if (spdx)
        snprintf(cmi->spdx, sizeof cmi->spdx, "%s", spdx);
    cmi->rights_reserved = json_is_true(json_object_get(root, "rights_reserved"));
    const char *title = json_string_value(json_object_get(root, "title"));
    const char *author = json_string_value(json_object_get(root, "author"));
    if (title)
        snprintf(cmi->title, sizeof cmi->title, "%s", title);
    if (author)
        snprintf(cmi->author, sizeof cmi->author, "%s", author);
    json_decref(root);
    return RECITE_OK;
}
