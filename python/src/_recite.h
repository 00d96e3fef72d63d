/*
 * _recite.h — what the two C files of the extension module share: the recite.Error base class,
 * raising the subclass of a library status, byte strings as str, and the pieces of
 * _recite_build.c (building an index, license identification) that the module registers.
 */
#ifndef RECITE_PY_EXT_H
#define RECITE_PY_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "recite.h"

extern PyObject *error_base;

/* Raises the recite.Error subclass of the status (err's code when set) with the library's
 * message; returns NULL. */
PyObject *raise_error(int rc, const recite_error *err);

/* A str from bytes that should be UTF-8 (invalid bytes replaced); None for NULL. */
PyObject *text_or_none(const char *s);

/* _recite_build.c */
PyObject *ext_build(PyObject *mod, PyObject *args);
extern PyTypeObject LicenseCheckerType;

#endif /* RECITE_PY_EXT_H */
