/* libFuzzer target: the change stream.  A stored PostgreSQL log record
 * (test_decoding's text) and a raw MariaDB binlog file are read back at
 * restore time from a repository cairn does not fully trust: any bytes must
 * be parsed or refused, never crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mariadb/my_binlog.h"
#include "postgres/pg_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    pgd_record rec;
    if (pgd_record_parse((const char *)data, len, &rec) == 0) {
        pgd_change c;
        memset(&c, 0, sizeof c);
        char why[256];
        if (pgd_parse(rec.data, rec.len, &c, why, sizeof why) == 0)
            pgd_change_clear(&c);
    }
    pgd_change c;
    memset(&c, 0, sizeof c);
    char why[256];
    if (pgd_parse((const char *)data, len, &c, why, sizeof why) == 0)
        pgd_change_clear(&c);

    my_binlog_scan scan;
    my_binlog_scan_init(&scan);
    my_binlog_scan_feed(&scan, data, len / 2);
    my_binlog_scan_feed(&scan, data + len / 2, len - len / 2);
    my_binlog_scan_end(&scan);
    free(scan.groups);
    my_statement_kind((const char *)data, len);
    return 0;
}
