/*
 * _recite_build.c — the parts of the extension module that make things: recite.build (an index
 * and its catalogue, with the GIL released and the builder's notes collected) and the license
 * checker type behind recite.license (identification with the GIL released).
 */
#include "_recite.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ==== building ==== */

typedef struct notes {
    pthread_mutex_t lock;
    char **v; /* "kind\tpath\tdetail" */
    size_t n, cap;
} notes;

static void on_note(recite_note_kind kind, const char *path, const char *detail, void *user)
{
    notes *ns = user;
    static const char *const names[] = {"",        "hidden",       "binary",    "empty",
                                        "special", "invalid-utf8", "duplicate", "unreadable"};
    const char *k = (unsigned)kind < 8 ? names[kind] : "note";
    size_t len = strlen(k) + strlen(path) + (detail ? strlen(detail) : 0) + 3;
    char *s = malloc(len);
    if (!s)
        return;
    snprintf(s, len, "%s\t%s\t%s", k, path, detail ? detail : "");
    pthread_mutex_lock(&ns->lock);
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? 2 * ns->cap : 16;
        char **v = realloc(ns->v, cap * sizeof *v);
        if (!v) {
            pthread_mutex_unlock(&ns->lock);
            free(s);
            return;
        }
        ns->v = v, ns->cap = cap;
    }
    ns->v[ns->n++] = s;
    pthread_mutex_unlock(&ns->lock);
}

/* build(paths, out, mode, min_tokens, code_min_tokens, jobs, skip_cmi, key, cache_dir,
 *       spdx_dir, created_unix) -> (stats dict, notes) */
PyObject *ext_build(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *paths;
    const char *out, *key = NULL, *cache = NULL, *spdx = NULL;
    Py_ssize_t key_len = 0;
    int mode, skip_cmi;
    unsigned min_tokens, code_min_tokens, jobs;
    unsigned long long created;
    if (!PyArg_ParseTuple(args, "O!siIIIpz#zzK", &PyList_Type, &paths, &out, &mode, &min_tokens,
                          &code_min_tokens, &jobs, &skip_cmi, &key, &key_len, &cache, &spdx,
                          &created))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(paths);
    const char **pv = calloc((size_t)n + 1, sizeof *pv);
    if (!pv)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) {
        pv[i] = PyUnicode_AsUTF8(PyList_GET_ITEM(paths, i));
        if (!pv[i]) {
            free(pv);
            return NULL;
        }
    }
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    opt.mode = (recite_mode)mode;
    opt.min_tokens = min_tokens;
    opt.code_min_tokens = code_min_tokens;
    opt.jobs = jobs;
    opt.skip_cmi = skip_cmi;
    opt.text_free_key = key;
    opt.text_free_key_len = (size_t)key_len;
    opt.license_cache_dir = cache;
    opt.spdx_dir = spdx;
    opt.created_unix = created;
    notes ns = {.v = NULL};
    pthread_mutex_init(&ns.lock, NULL);
    opt.note = on_note;
    opt.user = &ns;
    recite_build_stats st = {0};
    recite_error err = {0};
    int rc;
    /* The list stays alive (held by the caller) and its strings with it. */
    Py_BEGIN_ALLOW_THREADS;
    rc = recite_index_build(&st, out, pv, (size_t)n, &opt, &err);
    if (rc == RECITE_OK)
        rc = recite_catalog_build(out, &err);
    Py_END_ALLOW_THREADS;
    free(pv);
    pthread_mutex_destroy(&ns.lock);
    PyObject *result = NULL, *nl = PyList_New(0);
    for (size_t i = 0; i < ns.n; i++) {
        PyObject *s =
            nl ? PyUnicode_DecodeUTF8(ns.v[i], (Py_ssize_t)strlen(ns.v[i]), "replace") : NULL;
        if (!s || PyList_Append(nl, s) < 0)
            Py_CLEAR(nl);
        Py_XDECREF(s);
        free(ns.v[i]);
    }
    free(ns.v);
    if (rc != RECITE_OK) {
        Py_XDECREF(nl);
        return raise_error(rc, &err);
    }
    if (nl)
        result = Py_BuildValue(
            "({sKsKsKsKsKsKsd}N)", "works", (unsigned long long)st.works, "clusters",
            (unsigned long long)st.clusters, "bytes", (unsigned long long)st.bytes, "tokens",
            (unsigned long long)st.tokens, "fingerprints", (unsigned long long)st.fingerprints,
            "index_bytes", (unsigned long long)st.index_bytes, "seconds", st.seconds, nl);
    return result;
}

/* ==== license identification ==== */

typedef struct {
    PyObject_HEAD recite_license_checker *lc;
    int busy;
} LicenseCheckerObject;

static void LicenseChecker_dealloc(LicenseCheckerObject *self)
{
    recite_license_checker_free(self->lc);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int LicenseChecker_init(LicenseCheckerObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"cache_dir", "debian_dir", "spdx_dir", NULL};
    recite_license_options opt = RECITE_LICENSE_OPTIONS_INIT;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|zzz", kwlist, &opt.cache_dir,
                                     &opt.debian_licenses_dir, &opt.spdx_dir))
        return -1;
    recite_license_checker *lc = NULL;
    recite_error err = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS;
    rc = recite_license_checker_create(&lc, &opt, &err);
    Py_END_ALLOW_THREADS;
    if (rc != RECITE_OK) {
        raise_error(rc, &err);
        return -1;
    }
    recite_license_checker_free(self->lc);
    self->lc = lc;
    return 0;
}

/* identify(data, name, mode) -> (license, score, from, full_text, spdx_tag, copyrights) */
static PyObject *LicenseChecker_identify(LicenseCheckerObject *self, PyObject *args)
{
    const char *data, *name = NULL;
    Py_ssize_t len;
    int mode = 0;
    if (!PyArg_ParseTuple(args, "y#zi", &data, &len, &name, &mode))
        return NULL;
    if (!self->lc || self->busy) {
        PyErr_SetString(error_base, self->lc ? "the license checker is in use"
                                             : "the license checker is not initialized");
        return NULL;
    }
    recite_license_info info;
    recite_error err = {0};
    int rc;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS;
    rc = recite_license_identify(&info, self->lc, name, data, (size_t)len, (recite_mode)mode, &err);
    Py_END_ALLOW_THREADS;
    self->busy = 0;
    if (rc != RECITE_OK)
        return raise_error(rc, &err);
    PyObject *cs = PyList_New(0);
    for (unsigned i = 0; cs && i < info.ncopyright && i < RECITE_LICENSE_MAX_NOTICES; i++) {
        PyObject *s = text_or_none(info.copyright[i]);
        if (!s || PyList_Append(cs, s) < 0)
            Py_CLEAR(cs);
        Py_XDECREF(s);
    }
    if (!cs)
        return NULL;
    return Py_BuildValue("(NdsNNN)", text_or_none(info.license[0] ? info.license : NULL),
                         info.score, recite_info_source_name(info.from),
                         PyBool_FromLong(info.full_text),
                         text_or_none(info.spdx_tag[0] ? info.spdx_tag : NULL), cs);
}

static PyMethodDef LicenseChecker_methods[] = {
    {"identify", (PyCFunction)LicenseChecker_identify, METH_VARARGS, "Identifies (raw)."},
    {NULL, NULL, 0, NULL}};

PyTypeObject LicenseCheckerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "recite._recite.LicenseChecker",
    .tp_basicsize = sizeof(LicenseCheckerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "License identification (one thread at a time).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)LicenseChecker_init,
    .tp_dealloc = (destructor)LicenseChecker_dealloc,
    .tp_methods = LicenseChecker_methods,
};
