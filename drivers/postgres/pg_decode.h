/* Parsing test_decoding's text output into changes.
 *
 * test_decoding prints one line per change (see the format in DESIGN.md
 * section 5 and the tests): BEGIN and COMMIT with the transaction id and
 * commit time, "table S.T: INSERT|UPDATE|DELETE: name[type]:value ...",
 * "table S.T, S.U: TRUNCATE: flags", and "message: ...".  Values are SQL
 * literals already: 'text' with '' doubled, B'0101', bare numbers,
 * booleans, NaN, or null; an UPDATE leaves an unchanged TOASTed value out
 * as unchanged-toast-datum.  Values may hold raw newlines, so a line is
 * one stored record, never split on '\n'.  Pure parsing: no libpq. */
#ifndef CAIRN_PG_DECODE_H
#define CAIRN_PG_DECODE_H

#include <stddef.h>
#include <stdint.h>

typedef enum pgd_kind {
    PGD_BEGIN,
    PGD_COMMIT,
    PGD_INSERT,
    PGD_UPDATE,
    PGD_DELETE,
    PGD_TRUNCATE,
    PGD_MESSAGE,
} pgd_kind;

typedef struct pgd_column {
    char *name;          /* unquoted */
    char *type;          /* as printed: "integer", "character varying[]" */
    char *literal;       /* an SQL literal ('x', B'1', 'NaN'), NULL for SQL NULL */
    int unchanged_toast; /* no value: the column kept its old TOASTed value */
} pgd_column;

typedef struct pgd_change {
    pgd_kind kind;
    char *schema, *table; /* unquoted; of the first table for TRUNCATE */
    pgd_column *cols;     /* INSERT/UPDATE: the new row; DELETE: key or old row */
    size_t ncols;
    pgd_column *old; /* UPDATE: old-key (a changed key, or the full old row) */
    size_t nold;
    int no_tuple_data; /* DELETE/UPDATE of a table without replica identity */
    /* TRUNCATE: every table, "schema" then "name", alternating */
    char **truncated;
    size_t ntruncated;
    int restart_seqs, cascade;
    /* BEGIN/COMMIT */
    uint64_t xid;
    char commit_time[48]; /* as printed, "" when absent */
    /* message */
    int transactional;
    char *prefix;
    char *content;
} pgd_change;

/* Parses one change; 0 on success, -1 with a reason in why. */
int pgd_parse(const char *text, size_t len, pgd_change *out, char *why, size_t cap);
void pgd_change_clear(pgd_change *c);

/* A stored log record: the peek row's LSN, transaction id and text. */
typedef struct pgd_record {
    uint64_t lsn;
    uint64_t xid;
    const char *data;
    size_t len;
} pgd_record;

/* Logical messages cairn itself puts into the log: DDL from the optional
 * capture (scripts/pg-ddl-capture.sql), replayed in place; the marker an
 * increment commits to flush the log, neither counted nor replayed. */
#define PGD_DDL_PREFIX  "cairn.ddl"
#define PGD_MARK_PREFIX "cairn.mark"

/* "16/B374D848" -> 0x16B374D848; 0 on success. */
int pgd_lsn_parse(const char *s, uint64_t *lsn);
void pgd_lsn_format(uint64_t lsn, char out[24]);

/* A stored record's payload is "<lsn>\t<xid>\t<data>" (framed by
 * cairn_record_write): this writes the part before the data into out and
 * returns its length. */
size_t pgd_record_head(const char *lsn, const char *xid, char out[64]);
/* Parses a record payload (without its length prefix); 0 on success. */
int pgd_record_parse(const char *payload, size_t len, pgd_record *rec);

#endif
