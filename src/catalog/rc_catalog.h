/*
 * rc_catalog.h — internals shared by the provenance catalogue's files: the catalogue handle,
 * the schema constants, and the mapping of SQLite failures onto recite_status with one-line
 * messages. catalog.c opens, queries and deletes; catalog_build.c (re)creates the database.
 */
#ifndef RC_CATALOG_H
#define RC_CATALOG_H

#include "../common/rc_common.h"
#include "../index/rc_index.h" /* RC_CATALOG_FILE */

#include <sqlite3.h>
#include <sys/types.h>

/* PRAGMA application_id: "RCTC" — tells a recite catalogue from any other SQLite file. */
#define RC_CATALOG_APP_ID 0x52435443
/* meta.schema_version (and PRAGMA user_version); bump on any incompatible schema change. */
#define RC_CATALOG_SCHEMA 1
/* How long a statement waits for another connection's lock before failing. */
#define RC_CATALOG_BUSY_MS 2000

struct recite_catalog {
    sqlite3 *db;
    char *path; /* DIR/catalog.sqlite, for messages and to notice a replaced file */
    int writable;
    dev_t dev; /* the file the connection has open */
    ino_t ino;
};

/* DIR/catalog.sqlite in a new malloc'd string. */
int rc_catalog_path(const char *index_dir, char **out, recite_error *err);

/* Fills err from a failed SQLite call (`src` its result code) and returns the recite status:
 * busy/locked → RECITE_EIO "PATH: database is locked", not a database → RECITE_EFORMAT "PATH:
 * not a recite catalogue (...)", corrupt → RECITE_EFORMAT, out of memory → RECITE_ENOMEM, any
 * other → RECITE_EIO "PATH: <sqlite message>". */
int rc_catalog_db_error(sqlite3 *db, int src, const char *path, recite_error *err);

/* sqlite3_exec of statements that return no rows, errors mapped as above. */
int rc_catalog_exec(recite_catalog *cat, const char *sql, recite_error *err);

/* Prepares one statement; a failure (e.g. a table missing from a foreign file) is mapped. */
int rc_catalog_prepare(recite_catalog *cat, const char *sql, sqlite3_stmt **out, recite_error *err);

/* BEGIN IMMEDIATE (the write lock, waiting up to RC_CATALOG_BUSY_MS), on the file now at the
 * catalogue's path: when a rebuild has replaced the file since the handle was opened, the
 * handle is reopened on the new file first, so that a write never lands in a replaced file. */
int rc_catalog_begin_write(recite_catalog *cat, recite_error *err);

/* ROLLBACK when a transaction is open; errors ignored (the caller reports the first one). */
void rc_catalog_rollback(recite_catalog *cat);

#endif /* RC_CATALOG_H */
