/*
 * _recite.c — the CPython extension module under the `recite` Python package: thin types over
 * include/recite.h (Index, Session, Policy, LicenseChecker, build), raising recite.Error
 * subclasses with the library's message. Checks, builds and license identification run with
 * the GIL released; an Index lends each call a checker of its own from a small pool, so one
 * Index serves many threads. The Python side (recite/__init__.py) turns the tuples returned
 * here into Result, Match and Work objects.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_recite.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ==== errors ==== */

PyObject *error_base;
static PyObject *error_by_code[10]; /* index -code, 1..9 */

static const struct {
    int code;
    const char *name, *doc;
} error_kinds[] = {
    {RECITE_ENOMEM, "recite.OutOfMemoryError", "The library ran out of memory."},
    {RECITE_EIO, "recite.FileError", "A file could not be read or written."},
    {RECITE_EFORMAT, "recite.FormatError", "Malformed input or a corrupt index."},
    {RECITE_EVERSION, "recite.VersionError", "An index of an incompatible format version."},
    {RECITE_EINVAL, "recite.InvalidArgumentError", "An invalid argument or option."},
    {RECITE_ELIMIT, "recite.LimitError", "A documented size limit was exceeded."},
    {RECITE_EEMPTY, "recite.EmptyError", "Nothing to do: no works were found in the inputs."},
    {RECITE_EKEY, "recite.KeyMismatchError", "A text-free index: its key is missing or wrong."},
    {RECITE_ENOTEXT, "recite.NoTextError", "A text-free index stores no text of its works."},
};

/* Raises the recite.Error subclass of err->code with the library's message; returns NULL. */
PyObject *raise_error(int rc, const recite_error *err)
{
    int code = err && err->code ? err->code : rc;
    PyObject *cls =
        code < 0 && -code < 10 && error_by_code[-code] ? error_by_code[-code] : error_base;
    const char *msg = err && err->message[0] ? err->message : recite_strerror(code);
    PyObject *exc = PyObject_CallFunction(cls, "s", msg);
    if (exc) {
        PyObject *c = PyLong_FromLong(code);
        if (c)
            PyObject_SetAttrString(exc, "code", c);
        Py_XDECREF(c);
        PyErr_SetObject(cls, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* ==== byte offsets to str indices ==== */

typedef struct cp_cursor {
    const unsigned char *s;
    size_t len, pos, chars;
} cp_cursor;

/* Code points of s[0, off): what a Python str index is, for text that was a str. Offsets mostly
 * come in increasing order: the cursor goes on from the previous one. */
static size_t to_chars(cp_cursor *c, uint64_t off)
{
    if (off > c->len)
        off = c->len;
    while (c->pos > off) /* back to an earlier offset: ends come before the next starts */
        c->chars -= (c->s[--c->pos] & 0xc0) != 0x80;
    for (; c->pos < off; c->pos++)
        c->chars += (c->s[c->pos] & 0xc0) != 0x80;
    return c->chars;
}

/* ==== policy ==== */

typedef struct {
    PyObject_HEAD recite_policy *policy;
} PolicyObject;

static void Policy_dealloc(PolicyObject *self)
{
    recite_policy_free(self->policy);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Policy_init(PolicyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "json", "name", "spdx_dir", NULL};
    const char *path = NULL, *json = NULL, *name = NULL, *spdx = NULL;
    Py_ssize_t json_len = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|zz#zz", kwlist, &path, &json, &json_len, &name,
                                     &spdx))
        return -1;
    if (!path == !json) {
        PyErr_SetString(PyExc_TypeError, "Policy: give a path or json, not both");
        return -1;
    }
    recite_policy *p = NULL;
    recite_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS;
    rc = path ? recite_policy_load(&p, path, spdx, &err)
              : recite_policy_parse(&p, json, (size_t)json_len, name, spdx, &err);
    Py_END_ALLOW_THREADS;
    if (rc != RECITE_OK) {
        raise_error(rc, &err);
        return -1;
    }
    recite_policy_free(self->policy);
    self->policy = p;
    return 0;
}

static PyTypeObject PolicyType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "recite._recite.Policy",
    .tp_basicsize = sizeof(PolicyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A loaded policy (recite_policy_load): immutable, shareable by threads.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Policy_init,
    .tp_dealloc = (destructor)Policy_dealloc,
};

static const recite_policy *policy_of(PyObject *o)
{
    return o && o != Py_None && PyObject_TypeCheck(o, &PolicyType) ? ((PolicyObject *)o)->policy
                                                                   : NULL;
}

/* ==== index ==== */

#define POOL_MAX 32

typedef struct pooled {
    recite_check_options opt;
    recite_checker *checker;
} pooled;

typedef struct {
    PyObject_HEAD recite_index *idx;
    pooled pool[POOL_MAX]; /* idle checkers; touched only with the GIL held */
    int npool;
    long active; /* calls running without the GIL, sessions open */
} IndexObject;

static int parse_options(PyObject *o, recite_check_options *opt)
{
    *opt = (recite_check_options)RECITE_CHECK_OPTIONS_INIT;
    if (!o || o == Py_None)
        return 0;
    unsigned min_tokens, code_min_tokens, common_sample, max_matches;
    int exact_only, all_works, skip_cmi;
    double min_similarity;
    if (!PyArg_ParseTuple(o, "IIpdpIpI;options", &min_tokens, &code_min_tokens, &exact_only,
                          &min_similarity, &all_works, &common_sample, &skip_cmi, &max_matches))
        return -1;
    opt->min_tokens = min_tokens;
    opt->code_min_tokens = code_min_tokens;
    opt->exact_only = exact_only;
    opt->min_similarity = min_similarity;
    opt->all_works = all_works;
    opt->common_sample = common_sample;
    opt->skip_cmi = skip_cmi;
    opt->max_matches = max_matches;
    return 0;
}

static bool same_options(const recite_check_options *a, const recite_check_options *b)
{
    return a->min_tokens == b->min_tokens && a->code_min_tokens == b->code_min_tokens &&
           a->exact_only == b->exact_only && a->min_similarity == b->min_similarity &&
           a->all_works == b->all_works && a->common_sample == b->common_sample &&
           a->skip_cmi == b->skip_cmi && a->max_matches == b->max_matches;
}

static int index_ready(IndexObject *self)
{
    if (!self->idx) {
        PyErr_SetString(error_base, "the index is closed");
        return -1;
    }
    return 0;
}

/* A checker for this call (GIL held): an idle one with the same options, else a new one. */
static recite_checker *take_checker(IndexObject *self, const recite_check_options *opt)
{
    for (int i = self->npool - 1; i >= 0; i--) {
        if (same_options(&self->pool[i].opt, opt)) {
            recite_checker *c = self->pool[i].checker;
            self->pool[i] = self->pool[--self->npool];
            return c;
        }
    }
    recite_checker *c = NULL;
    recite_error err = {0};
    int rc = recite_checker_create(&c, self->idx, opt, &err);
    if (rc != RECITE_OK)
        raise_error(rc, &err);
    return c;
}

static void give_checker(IndexObject *self, const recite_check_options *opt, recite_checker *c)
{
    if (!c)
        return;
    recite_checker_reset(c);
    if (self->npool < POOL_MAX && self->idx) {
        self->pool[self->npool].opt = *opt;
        self->pool[self->npool++].checker = c;
    } else {
        recite_checker_free(c);
    }
}

static void drop_pool(IndexObject *self)
{
    for (int i = 0; i < self->npool; i++)
        recite_checker_free(self->pool[i].checker);
    self->npool = 0;
}

static void Index_dealloc(IndexObject *self)
{
    drop_pool(self);
    recite_index_close(self->idx);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Index_init(IndexObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "key", NULL};
    const char *path;
    const char *key = NULL;
    Py_ssize_t key_len = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|z#", kwlist, &path, &key, &key_len))
        return -1;
    if (self->idx) {
        PyErr_SetString(error_base, "Index is already open");
        return -1;
    }
    recite_index *idx = NULL;
    recite_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS;
    rc = key ? recite_index_open_keyed(&idx, path, key, (size_t)key_len, &err)
             : recite_index_open(&idx, path, &err);
    Py_END_ALLOW_THREADS;
    if (rc != RECITE_OK) {
        raise_error(rc, &err);
        return -1;
    }
    self->idx = idx;
    return 0;
}

static PyObject *Index_close(IndexObject *self, PyObject *unused)
{
    (void)unused;
    if (self->active) {
        PyErr_SetString(error_base, "the index is in use (a check or a session is running)");
        return NULL;
    }
    drop_pool(self);
    recite_index_close(self->idx);
    self->idx = NULL;
    Py_RETURN_NONE;
}

/* A str from bytes that should be UTF-8 (ids are file names: bytes); None for NULL. */
PyObject *text_or_none(const char *s)
{
    if (!s)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

/* Metadata of one work: (id, title, author, license, copyright, source, url, mode, tokens,
 * bytes, cmi_json (when it may hold a title or author), content_hash, also). */
static PyObject *work_tuple(const recite_index *idx, uint32_t w)
{
    recite_work_info info;
    if (recite_index_work(&info, idx, w) != RECITE_OK)
        memset(&info, 0, sizeof info);
    uint32_t n = 0;
    const uint32_t *mem = info.id ? recite_index_cluster_members(idx, info.cluster, &n) : NULL;
    PyObject *also = PyList_New(0);
    for (uint32_t i = 0; also && i < n; i++) {
        recite_work_info o;
        if (mem[i] == w || recite_index_work(&o, idx, mem[i]) != RECITE_OK)
            continue;
        PyObject *id = text_or_none(o.id);
        if (!id || PyList_Append(also, id) < 0)
            Py_CLEAR(also);
        Py_XDECREF(id);
    }
    if (!also)
        return NULL;
    return Py_BuildValue("(NNNNNNNsKKNNN)", text_or_none(info.id ? info.id : "?"),
                         text_or_none(info.title), text_or_none(info.author),
                         text_or_none(info.license), text_or_none(info.copyright),
                         text_or_none(info.source), text_or_none(info.url),
                         info.mode == RECITE_MODE_CODE ? "code" : "prose",
                         (unsigned long long)info.tokens, (unsigned long long)info.bytes,
                         /* only what the title and author fallbacks need (it is long) */
                         text_or_none(info.cmi_json && (!info.title || !info.author) &&
                                              (strstr(info.cmi_json, "\"title\"") ||
                                               strstr(info.cmi_json, "\"author\""))
                                          ? info.cmi_json
                                          : NULL),
                         text_or_none(info.content_hash), also);
}

static const char *kind_name(recite_kind k)
{
    return k == RECITE_KIND_EXACT ? "exact" : k == RECITE_KIND_NORMALIZED ? "normalized" : "near";
}

static const char *cmi_name(recite_cmi_verdict v)
{
    static const char *const names[] = {NULL, "none", "present", "absent", "altered"};
    return (unsigned)v < 5 ? names[v] : NULL;
}

/* One match: (work, start, end, byte_start, byte_end, source_start, source_end, tokens, kind,
 * similarity, common, source_token, unit, passage, shared_by); start/end are str indices when
 * cur is given, else the byte offsets again. */
static PyObject *match_tuple(const recite_match *m, cp_cursor *cur)
{
    unsigned long long s = m->out_start, e = m->out_end;
    if (cur) {
        s = to_chars(cur, m->out_start);
        e = to_chars(cur, m->out_end);
    }
    return Py_BuildValue(
        "(IKKKKKKIsdNKsII)", m->work, s, e, (unsigned long long)m->out_start,
        (unsigned long long)m->out_end, (unsigned long long)m->src_start,
        (unsigned long long)m->src_end, m->tokens, kind_name(m->kind), m->similarity,
        PyBool_FromLong(m->common), (unsigned long long)m->src_token,
        m->unit == RECITE_MODE_CODE ? "lexemes" : "words", m->passage, m->shared_by);
}

/* A whole result, for recite/__init__.py: (verdict, tokens, code_tokens, bytes, truncated,
 * invalid_utf8, common_others, text_free, matches, works) with works as
 * (work, metadata tuple, matches, tokens_covered, longest, coverage, common, similarity, cmi,
 * license, license_score, license_from, copyright, copyright_from, cmi_found, cmi_found_start,
 * cmi_found_end (str index or byte), cmi_found_byte_start, cmi_found_byte_end, action, rule,
 * score). */
static PyObject *result_tuple(const recite_index *idx, const recite_result *res,
                              recite_action verdict, const recite_action *actions, const int *rules,
                              const char *text, size_t len, bool chars)
{
    cp_cursor cur = {(const unsigned char *)text, len, 0, 0};
    cp_cursor *cp = chars ? &cur : NULL;
    PyObject *ms = PyList_New((Py_ssize_t)res->nmatches);
    PyObject *ws = PyList_New((Py_ssize_t)res->nworks);
    if (!ms || !ws)
        goto fail;
    for (size_t i = 0; i < res->nmatches; i++) {
        PyObject *t = match_tuple(&res->matches[i], cp);
        if (!t)
            goto fail;
        PyList_SET_ITEM(ms, (Py_ssize_t)i, t);
    }
    for (size_t i = 0; i < res->nworks; i++) {
        const recite_work_hit *h = &res->works[i];
        unsigned long long fs = h->cmi_found_start, fe = h->cmi_found_end;
        if (cp && h->cmi_found[0]) {
            fs = to_chars(cp, h->cmi_found_start);
            fe = to_chars(cp, h->cmi_found_end);
        }
        const char *cmi = cmi_name(h->cmi);
        PyObject *t = Py_BuildValue(
            "(INIKIddNNNdsNsNKKKKsid)", h->work, work_tuple(idx, h->work), h->matches,
            (unsigned long long)h->tokens_covered, h->longest_tokens, h->coverage, h->similarity,
            PyBool_FromLong(h->common), text_or_none(cmi),
            text_or_none(h->license[0] ? h->license : NULL), h->license_score,
            recite_info_source_name(h->license_from),
            text_or_none(h->copyright[0] ? h->copyright : NULL),
            recite_info_source_name(h->copyright_from),
            text_or_none(h->cmi_found[0] ? h->cmi_found : NULL), fs, fe,
            (unsigned long long)h->cmi_found_start, (unsigned long long)h->cmi_found_end,
            recite_action_name(actions[i]), rules[i], h->score);
        if (!t)
            goto fail;
        PyList_SET_ITEM(ws, (Py_ssize_t)i, t);
    }
    return Py_BuildValue(
        "(sKKKNKKNNN)", verdict == RECITE_ACTION_ALLOW ? "pass" : recite_action_name(verdict),
        (unsigned long long)res->tokens, (unsigned long long)res->code_tokens,
        (unsigned long long)res->bytes, PyBool_FromLong(res->truncated),
        (unsigned long long)res->invalid_utf8, (unsigned long long)res->common_others,
        PyBool_FromLong(res->text_free), ms, ws);
fail:
    Py_XDECREF(ms);
    Py_XDECREF(ws);
    return NULL;
}

/* The policy's decision on a result (nogil-safe): actions and rules per work, or NULL arrays
 * when out of memory. */
typedef struct decision {
    recite_action verdict, *actions;
    int *rules;
} decision;

static int decide(decision *d, const recite_policy *p, const recite_index *idx,
                  const recite_result *res)
{
    size_t n = res->nworks ? res->nworks : 1;
    d->actions = calloc(n, sizeof *d->actions);
    d->rules = calloc(n, sizeof *d->rules);
    if (!d->actions || !d->rules)
        return RECITE_ENOMEM;
    d->verdict = recite_policy_decide(d->actions, d->rules, p, idx, res);
    return RECITE_OK;
}

static void decision_free(decision *d)
{
    free(d->actions);
    free(d->rules);
}

/* check(data: bytes, policy, options, chars: bool) -> result tuple */
static PyObject *Index_check(IndexObject *self, PyObject *args)
{
    const char *data;
    Py_ssize_t len;
    PyObject *policy = Py_None, *opts = Py_None;
    int chars = 0;
    if (!PyArg_ParseTuple(args, "y#|OOp", &data, &len, &policy, &opts, &chars))
        return NULL;
    recite_check_options opt;
    if (index_ready(self) < 0 || parse_options(opts, &opt) < 0)
        return NULL;
    recite_checker *c = take_checker(self, &opt);
    if (!c)
        return NULL;
    const recite_policy *pol = policy_of(policy);
    const recite_result *res = NULL;
    recite_error err = {0};
    decision d = {0};
    int rc;
    self->active++;
    Py_BEGIN_ALLOW_THREADS;
    rc = recite_check_text(&res, c, data, (size_t)len, &err);
    if (rc == RECITE_OK && (rc = decide(&d, pol, self->idx, res)) != RECITE_OK)
        err.code = rc;
    Py_END_ALLOW_THREADS;
    self->active--;
    PyObject *out = rc == RECITE_OK ? result_tuple(self->idx, res, d.verdict, d.actions, d.rules,
                                                   data, (size_t)len, chars)
                                    : raise_error(rc, &err);
    decision_free(&d);
    give_checker(self, &opt, c);
    return out;
}

/* report(data, format, policy, options, name, index_name) -> str: "json", "text" or "html". */
static PyObject *Index_report(IndexObject *self, PyObject *args)
{
    const char *data, *format, *name = NULL, *index_name = NULL;
    Py_ssize_t len;
    PyObject *policy = Py_None, *opts = Py_None;
    if (!PyArg_ParseTuple(args, "y#s|OOzz", &data, &len, &format, &policy, &opts, &name,
                          &index_name))
        return NULL;
    int which = strcmp(format, "json") == 0   ? 0
                : strcmp(format, "text") == 0 ? 1
                : strcmp(format, "html") == 0 ? 2
                                              : -1;
    if (which < 0) {
        PyErr_Format(PyExc_ValueError, "format must be 'json', 'text' or 'html', not %R",
                     PyTuple_GET_ITEM(args, 1));
        return NULL;
    }
    recite_check_options opt;
    if (index_ready(self) < 0 || parse_options(opts, &opt) < 0)
        return NULL;
    recite_checker *c = take_checker(self, &opt);
    if (!c)
        return NULL;
    const recite_policy *pol = policy_of(policy);
    const recite_result *res = NULL;
    recite_error err = {0};
    char *report = NULL;
    int rc;
    self->active++;
    Py_BEGIN_ALLOW_THREADS;
    rc = recite_check_text(&res, c, data, (size_t)len, &err);
    if (rc == RECITE_OK) {
        if (which == 0)
            rc = recite_report_json(&report, self->idx, pol, name, data, (size_t)len, res, &err);
        else if (which == 1)
            rc = recite_report_text(&report, self->idx, pol, name, data, (size_t)len, res, &err);
        else {
            recite_report_html_options ho = RECITE_REPORT_HTML_OPTIONS_INIT;
            ho.index_name = index_name;
            ho.check_options = &opt;
            rc = recite_report_html(&report, self->idx, pol, name, data, (size_t)len, res, &ho,
                                    &err);
        }
    }
    Py_END_ALLOW_THREADS;
    self->active--;
    give_checker(self, &opt, c);
    if (rc != RECITE_OK)
        return raise_error(rc, &err);
    PyObject *out = PyUnicode_DecodeUTF8(report, (Py_ssize_t)strlen(report), "replace");
    free(report);
    return out;
}

static PyObject *Index_stats(IndexObject *self, PyObject *unused)
{
    (void)unused;
    if (index_ready(self) < 0)
        return NULL;
    recite_index_stats s;
    recite_index_get_stats(&s, self->idx);
    return Py_BuildValue(
        "{sIsKsKsKsKsIsIsIsKsKsNsK}", "format_version", s.format_version, "works",
        (unsigned long long)s.works, "clusters", (unsigned long long)s.clusters, "tokens",
        (unsigned long long)s.tokens, "text_bytes", (unsigned long long)s.text_bytes, "min_tokens",
        s.min_tokens, "code_min_tokens", s.code_min_tokens, "kgram", s.kgram, "fingerprints",
        (unsigned long long)s.fingerprints, "created_unix", (unsigned long long)s.created_unix,
        "text_free", PyBool_FromLong(s.text_free), "bytes_total",
        (unsigned long long)s.bytes_total);
}

static PyObject *Index_work(IndexObject *self, PyObject *args)
{
    unsigned w;
    if (!PyArg_ParseTuple(args, "I", &w) || index_ready(self) < 0)
        return NULL;
    if (w >= recite_index_work_count(self->idx)) {
        PyErr_Format(PyExc_IndexError, "no work %u in this index", w);
        return NULL;
    }
    return work_tuple(self->idx, w);
}

static PyObject *Index_work_count(IndexObject *self, PyObject *unused)
{
    (void)unused;
    if (index_ready(self) < 0)
        return NULL;
    return PyLong_FromUnsignedLong(recite_index_work_count(self->idx));
}

static PyObject *Index_work_text(IndexObject *self, PyObject *args)
{
    unsigned w;
    unsigned long long start, end;
    if (!PyArg_ParseTuple(args, "IKK", &w, &start, &end) || index_ready(self) < 0)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    recite_error err = {0};
    int rc;
    self->active++;
    Py_BEGIN_ALLOW_THREADS;
    rc = recite_index_work_text(&text, &len, self->idx, w, start, end, &err);
    Py_END_ALLOW_THREADS;
    self->active--;
    if (rc != RECITE_OK)
        return raise_error(rc, &err);
    PyObject *out = PyBytes_FromStringAndSize(text, (Py_ssize_t)len);
    free(text);
    return out;
}

/* ==== streaming sessions ==== */

typedef struct {
    PyObject_HEAD IndexObject *index; /* strong reference: the index outlives the session */
    recite_checker *checker;
    PyObject *policy;
    int busy; /* a feed or finish is running without the GIL */
} SessionObject;

static PyTypeObject SessionType;

static void session_release(SessionObject *self)
{
    if (self->checker) {
        recite_checker_free(self->checker);
        self->checker = NULL;
        self->index->active--;
    }
}

static void Session_dealloc(SessionObject *self)
{
    session_release(self);
    Py_XDECREF(self->index);
    Py_XDECREF(self->policy);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* session(policy, options) -> Session with a checker of its own. */
static PyObject *Index_session(IndexObject *self, PyObject *args)
{
    PyObject *policy = Py_None, *opts = Py_None;
    if (!PyArg_ParseTuple(args, "|OO", &policy, &opts))
        return NULL;
    recite_check_options opt;
    if (index_ready(self) < 0 || parse_options(opts, &opt) < 0)
        return NULL;
    recite_checker *c = NULL;
    recite_error err = {0};
    int rc = recite_checker_create(&c, self->idx, &opt, &err);
    if (rc != RECITE_OK)
        return raise_error(rc, &err);
    SessionObject *s = PyObject_New(SessionObject, &SessionType);
    if (!s) {
        recite_checker_free(c);
        return NULL;
    }
    Py_INCREF(self);
    Py_INCREF(policy);
    s->index = self;
    s->checker = c;
    s->policy = policy;
    s->busy = 0;
    self->active++;
    return (PyObject *)s;
}

static int session_ready(SessionObject *self)
{
    if (!self->checker) {
        PyErr_SetString(error_base, "the session is closed");
        return -1;
    }
    if (self->busy) {
        PyErr_SetString(error_base, "the session is in use by another thread");
        return -1;
    }
    return 0;
}

/* feed(data, chars) -> (events, cleared, cleared_chars, tokens, truncated, verdict so far);
 * events as (span, growing, match tuple). */
static PyObject *Session_feed(SessionObject *self, PyObject *args)
{
    const char *data;
    Py_ssize_t len;
    int chars = 0;
    if (!PyArg_ParseTuple(args, "y#|p", &data, &len, &chars) || session_ready(self) < 0)
        return NULL;
    recite_error err = {0};
    recite_poll poll = {0};
    decision d = {0};
    const recite_policy *pol = policy_of(self->policy);
    int rc;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS;
    rc = recite_checker_feed(self->checker, data, (size_t)len, &err);
    if (rc == RECITE_OK)
        rc = recite_checker_poll(&poll, self->checker, &err);
    if (rc == RECITE_OK && (rc = decide(&d, pol, self->index->idx, poll.so_far)) != RECITE_OK)
        err.code = rc;
    Py_END_ALLOW_THREADS;
    self->busy = 0;
    if (rc != RECITE_OK) {
        decision_free(&d);
        return raise_error(rc, &err);
    }
    size_t tlen;
    const char *text = recite_checker_text(self->checker, &tlen);
    cp_cursor cur = {(const unsigned char *)text, tlen, 0, 0};
    PyObject *events = PyList_New((Py_ssize_t)poll.nevents);
    for (size_t i = 0; events && i < poll.nevents; i++) {
        const recite_span_event *e = &poll.events[i];
        PyObject *t = Py_BuildValue("(INNN)", e->span, PyBool_FromLong(e->growing),
                                    match_tuple(&e->match, chars ? &cur : NULL),
                                    work_tuple(self->index->idx, e->match.work));
        if (!t) {
            Py_CLEAR(events);
            break;
        }
        PyList_SET_ITEM(events, (Py_ssize_t)i, t);
    }
    recite_action v = d.verdict;
    decision_free(&d);
    if (!events)
        return NULL;
    return Py_BuildValue("(NKKKNs)", events, (unsigned long long)poll.cleared,
                         (unsigned long long)(chars ? to_chars(&cur, poll.cleared) : poll.cleared),
                         (unsigned long long)poll.tokens, PyBool_FromLong(poll.truncated),
                         v == RECITE_ACTION_ALLOW ? "pass" : recite_action_name(v));
}

/* finish(chars) -> result tuple of the whole text; the session can start a new text. */
static PyObject *Session_finish(SessionObject *self, PyObject *args)
{
    int chars = 0;
    if (!PyArg_ParseTuple(args, "|p", &chars) || session_ready(self) < 0)
        return NULL;
    const recite_result *res = NULL;
    recite_error err = {0};
    decision d = {0};
    const recite_policy *pol = policy_of(self->policy);
    int rc;
    size_t tlen;
    const char *text = recite_checker_text(self->checker, &tlen);
    /* finish resets the stream: keep the text the offsets refer to. */
    char *copy = malloc(tlen + 1);
    if (!copy)
        return PyErr_NoMemory();
    memcpy(copy, text, tlen);
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS;
    rc = recite_checker_finish(&res, self->checker, &err);
    if (rc == RECITE_OK && (rc = decide(&d, pol, self->index->idx, res)) != RECITE_OK)
        err.code = rc;
    Py_END_ALLOW_THREADS;
    self->busy = 0;
    PyObject *out = rc == RECITE_OK ? result_tuple(self->index->idx, res, d.verdict, d.actions,
                                                   d.rules, copy, tlen, chars)
                                    : raise_error(rc, &err);
    decision_free(&d);
    free(copy);
    return out;
}

static PyObject *Session_text(SessionObject *self, PyObject *unused)
{
    (void)unused;
    if (session_ready(self) < 0)
        return NULL;
    size_t len;
    const char *text = recite_checker_text(self->checker, &len);
    return PyBytes_FromStringAndSize(text, (Py_ssize_t)len);
}

static PyObject *Session_release(SessionObject *self, PyObject *unused)
{
    (void)unused;
    if (self->busy) {
        PyErr_SetString(error_base, "the session is in use by another thread");
        return NULL;
    }
    session_release(self);
    Py_RETURN_NONE;
}

static PyObject *Session_leak_bound(SessionObject *self, PyObject *args)
{
    int code = 0;
    if (!PyArg_ParseTuple(args, "|p", &code) || session_ready(self) < 0)
        return NULL;
    return PyLong_FromUnsignedLong(
        recite_checker_leak_bound(self->checker, code ? RECITE_MODE_CODE : RECITE_MODE_PROSE));
}

static PyMethodDef Session_methods[] = {
    {"feed", (PyCFunction)Session_feed, METH_VARARGS, "Feeds a piece and polls (raw)."},
    {"finish", (PyCFunction)Session_finish, METH_VARARGS, "Finishes the text (raw result)."},
    {"text", (PyCFunction)Session_text, METH_NOARGS, "The bytes fed since the last finish."},
    {"release", (PyCFunction)Session_release, METH_NOARGS, "Frees the checker."},
    {"leak_bound", (PyCFunction)Session_leak_bound, METH_VARARGS, "The leak bound, in tokens."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject SessionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "recite._recite.Session",
    .tp_basicsize = sizeof(SessionObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A streaming check with a checker of its own (one thread at a time).",
    .tp_dealloc = (destructor)Session_dealloc,
    .tp_methods = Session_methods,
};

static PyMethodDef Index_methods[] = {
    {"check", (PyCFunction)Index_check, METH_VARARGS, "Checks bytes (raw result)."},
    {"report", (PyCFunction)Index_report, METH_VARARGS, "Checks bytes and renders a report."},
    {"session", (PyCFunction)Index_session, METH_VARARGS, "A streaming session."},
    {"stats", (PyCFunction)Index_stats, METH_NOARGS, "Figures of the index."},
    {"work", (PyCFunction)Index_work, METH_VARARGS, "Metadata of work N (raw)."},
    {"work_count", (PyCFunction)Index_work_count, METH_NOARGS, "Number of works."},
    {"work_text", (PyCFunction)Index_work_text, METH_VARARGS, "Bytes [start, end) of work N."},
    {"close", (PyCFunction)Index_close, METH_NOARGS, "Releases the index."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject IndexType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "recite._recite.Index",
    .tp_basicsize = sizeof(IndexObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A loaded index (recite_index_open): immutable, shared by threads.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Index_init,
    .tp_dealloc = (destructor)Index_dealloc,
    .tp_methods = Index_methods,
};

/* ==== module ==== */

static PyObject *mod_version(PyObject *mod, PyObject *unused)
{
    (void)mod, (void)unused;
    return PyUnicode_FromString(recite_version());
}

/* key_read(path): the bytes of a text-free index's key file (recite_key_read), as `recite
 * check --key` reads them. */
static PyObject *mod_key_read(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *path;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path))
        return NULL;
    char *key = NULL;
    size_t len = 0;
    recite_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS;
    rc = recite_key_read(&key, &len, PyBytes_AS_STRING(path), &err);
    Py_END_ALLOW_THREADS;
    Py_DECREF(path);
    if (rc != RECITE_OK)
        return raise_error(rc, &err);
    PyObject *out = PyBytes_FromStringAndSize(key, (Py_ssize_t)len);
    free(key);
    return out;
}

static PyMethodDef module_methods[] = {
    {"build", ext_build, METH_VARARGS, "Builds an index (raw)."},
    {"key_read", mod_key_read, METH_VARARGS, "The bytes of a key file (recite_key_read)."},
    {"version", mod_version, METH_NOARGS, "The library version."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_recite",
                                    "The C core of the recite package.", -1, module_methods};

PyMODINIT_FUNC PyInit__recite(void);
PyMODINIT_FUNC PyInit__recite(void)
{
    if (PyType_Ready(&PolicyType) < 0 || PyType_Ready(&IndexType) < 0 ||
        PyType_Ready(&SessionType) < 0 || PyType_Ready(&LicenseCheckerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    error_base = PyErr_NewExceptionWithDoc(
        "recite.Error", "An error of the recite library; .code is its status.", NULL, NULL);
    if (!error_base || PyModule_AddObjectRef(m, "Error", error_base) < 0)
        goto fail;
    for (size_t i = 0; i < sizeof error_kinds / sizeof error_kinds[0]; i++) {
        PyObject *cls =
            PyErr_NewExceptionWithDoc(error_kinds[i].name, error_kinds[i].doc, error_base, NULL);
        if (!cls || PyModule_AddObjectRef(m, strrchr(error_kinds[i].name, '.') + 1, cls) < 0)
            goto fail;
        error_by_code[-error_kinds[i].code] = cls;
    }
    if (PyModule_AddObjectRef(m, "Index", (PyObject *)&IndexType) < 0 ||
        PyModule_AddObjectRef(m, "Policy", (PyObject *)&PolicyType) < 0 ||
        PyModule_AddObjectRef(m, "Session", (PyObject *)&SessionType) < 0 ||
        PyModule_AddObjectRef(m, "LicenseChecker", (PyObject *)&LicenseCheckerType) < 0)
        goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
