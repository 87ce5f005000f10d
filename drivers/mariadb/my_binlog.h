/* Reading raw binary log files (format v4), and the positions that name
 * places in them.  Pure: no Connector/C.
 *
 * A file starts with the magic \xfebin; each event has a 19-byte header
 * (timestamp, type, server id, size, the position where the event ends,
 * flags).  A transaction -- a "group" here -- starts with a GTID event and
 * ends with its last event before the next GTID event or the file's end:
 * the XID of a transaction, or the query of a DDL statement.  Groups give
 * increments their transaction counts and commit times, and give restores
 * the commit boundaries to stop or resume at. */
#ifndef CAIRN_MY_BINLOG_H
#define CAIRN_MY_BINLOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct my_group {
    uint64_t start;    /* position of its GTID event */
    uint64_t end;      /* position where its last event ends */
    uint32_t time;     /* timestamp of its last event (Unix seconds) */
    uint32_t changes;  /* row events and statements in it */
    uint32_t schema;   /* statements that may change a schema (DDL, TRUNCATE, ...) */
    uint32_t admin;    /* administration statements (GRANT, FLUSH, ANALYZE, ...) */
    int transactional; /* ends with an XID (else a standalone statement: DDL) */
} my_group;

/* What a logged statement is, from its first words: transaction control
 * (BEGIN, COMMIT, SAVEPOINT, XA ...); administration that changes neither
 * a schema nor data, and that cairn neither backs up nor replays (GRANT,
 * REVOKE, CREATE/ALTER/DROP/RENAME USER or ROLE, SET PASSWORD, SET
 * DEFAULT ROLE, FLUSH, ANALYZE/OPTIMIZE/REPAIR TABLE); or anything else --
 * a statement that may change a schema or data. */
typedef enum { MY_STMT_CONTROL, MY_STMT_ADMIN, MY_STMT_OTHER } my_stmt_kind;
my_stmt_kind my_statement_kind(const char *sql, size_t len);

/* Scans a file fed piece by piece (files can be as large as
 * max_binlog_size: they are never held whole). */
typedef struct my_binlog_scan {
    uint64_t offset;        /* of the next byte fed */
    unsigned char head[19]; /* the event header being gathered */
    size_t head_len;
    uint64_t skip; /* bytes of the current event's body still to pass */
    /* the start of a query event's body, for its statement's kind */
    unsigned char peek[1024];
    size_t peek_len, peek_want, peek_size;
    int peek_type;
    unsigned crc_len; /* bytes of checksum after each event body (from the format event) */
    int in_group;
    int failed;
    char why[128];
    my_group *groups; /* the caller frees */
    size_t ngroups, alloc;
} my_binlog_scan;

void my_binlog_scan_init(my_binlog_scan *s);
void my_binlog_scan_feed(my_binlog_scan *s, const unsigned char *data, size_t len);
/* 0 when the file ended on an event boundary; -1 with s->why otherwise. */
int my_binlog_scan_end(my_binlog_scan *s);

/* How an increment stores binlog files in its log stream: records of a
 * 4-byte little-endian length and a payload whose first byte says what
 * follows: 'F' and a file name starts a file, 'D' and bytes continue it. */
#define MY_REC_FILE 'F'
#define MY_REC_DATA 'D'

/* "mysql-bin.000042:1234" -> name and offset; 0 on success. */
int my_position_parse(const char *s, char *file, size_t cap, uint64_t *pos);
/* Orders positions: by file name (same base, zero-padded numbers), then offset. */
int my_position_order(const char *afile, uint64_t apos, const char *bfile, uint64_t bpos);

#endif
