#!/usr/bin/env bash
# The demo, end to end on a fresh machine: installs what is missing, builds
# cairn, starts a throwaway PostgreSQL, fills a sample "shop" database,
# backs it up, restores it into a new database and shows that every table
# matches; then takes an increment from the WAL after a bad change and
# restores the shop as it was just before it.  Everything it starts is
# stopped and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/deps.sh
scripts/build.sh >/dev/null
cairn="$root/build/cairn"

tmp=$(mktemp -d /tmp/cairn-demo-XXXXXX)
chmod 755 "$tmp"
trap '"$root/scripts/pg.sh" stop "$tmp/pg"; rm -rf "$tmp"' EXIT
. "$("$root/scripts/pg.sh" start "$tmp/pg")"
export PGOPTIONS="-c client_min_messages=warning"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "sample data: a shop with customers, products, orders (partitioned), JSON and a big event log"
psql -X -q -d postgres -c "CREATE DATABASE shop"
psql -X -q -v ON_ERROR_STOP=1 -d shop <<'SQL'
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'returned');
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL, email text UNIQUE, address jsonb, created_at timestamptz DEFAULT now());
CREATE TABLE products (id serial PRIMARY KEY, sku text UNIQUE, title text, price numeric(10,2),
    tags text[], picture bytea);
CREATE TABLE orders (id bigint, customer_id bigint REFERENCES customers, placed date NOT NULL,
    status order_status, total numeric(12,2), PRIMARY KEY (id, placed)) PARTITION BY RANGE (placed);
CREATE TABLE orders_2025 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE orders_2026 PARTITION OF orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events (at timestamptz, kind text, payload jsonb);
INSERT INTO customers (name, email, address)
    SELECT 'customer ' || i, 'c' || i || '@example.com',
           jsonb_build_object('city', 'City ' || (i % 97), 'zip', lpad((i % 99999)::text, 5, '0'))
    FROM generate_series(1, 50000) i;
INSERT INTO products (sku, title, price, tags, picture)
    SELECT 'SKU-' || i, E'Product\t"' || i || E'"\nwith a newline', (i % 500) + 0.99,
           ARRAY['tag' || (i % 7), NULL, 'it''s'], decode(md5(i::text), 'hex')
    FROM generate_series(1, 5000) i;
INSERT INTO orders SELECT i, (i % 50000) + 1, date '2025-01-01' + (i % 700),
    (ARRAY['new','paid','shipped','returned']::order_status[])[(i % 4) + 1], (i % 1000) * 1.5
    FROM generate_series(1, 300000) i;
INSERT INTO events SELECT now() - i * interval '1 second', 'view',
    jsonb_build_object('product', i % 5000, 'session', md5(i::text))
    FROM generate_series(1, 400000) i;
CREATE INDEX ON events (at);
CREATE MATERIALIZED VIEW revenue AS SELECT status, sum(total) FROM orders GROUP BY status;
SQL
psql -X -d shop -c "SELECT relname AS table, n_live_tup AS rows FROM pg_stat_user_tables ORDER BY 1" 2>/dev/null || true

step "backup: cairn backup --source postgresql://cairn@127.0.0.1:$PGPORT/shop --repo REPO --jobs 2"
"$cairn" backup --source "$CAIRN_PG_URI_BASE/shop" --repo "$tmp/repo" --jobs 2 --tag demo

step "the repository: cairn list"
"$cairn" list --repo "$tmp/repo"

step "what a restore will do: cairn plan"
"$cairn" plan --repo "$tmp/repo" --target "$CAIRN_PG_URI_BASE/shop_restored"

step "restore into a new database: cairn restore --target .../shop_restored"
"$cairn" restore --repo "$tmp/repo" --target "$CAIRN_PG_URI_BASE/shop_restored" --jobs 2

step "compare every table, row by row, and the schema"
mismatch=0
for t in customers products orders_2025 orders_2026 events revenue; do
    a=$(psql -X -q -d shop -c "COPY (SELECT * FROM $t) TO STDOUT" | LC_ALL=C sort | sha256sum | cut -c1-16)
    b=$(psql -X -q -d shop_restored -c "COPY (SELECT * FROM $t) TO STDOUT" | LC_ALL=C sort | sha256sum | cut -c1-16)
    rows=$(psql -X -At -d shop_restored -c "SELECT count(*) FROM $t")
    if [ "$a" = "$b" ]; then s=same; else s=DIFFERENT; mismatch=1; fi
    printf '  %-12s %8s rows  %s  %s\n' "$t" "$rows" "$b" "$s"
done
if diff <(pg_dump -s shop | grep -v '^\\\(un\)\?restrict') \
        <(pg_dump -s shop_restored | grep -v '^\\\(un\)\?restrict') >/dev/null; then
    echo "  schema (pg_dump -s)      identical"
else
    echo "  schema (pg_dump -s)      DIFFERENT"; mismatch=1
fi
[ "$mismatch" -eq 0 ] && printf '\nthe restored database matches the original.\n' \
    || { printf '\nMISMATCH\n'; exit 1; }

digest() { # DB: products and orders, row by row
    for t in products orders; do
        psql -X -q -d "$1" -c "COPY (SELECT * FROM $t) TO STDOUT" | LC_ALL=C sort | sha256sum | cut -c1-16
    done | paste -sd' '
}
step "business goes on: 500 new orders, then at T a bad deploy zeroes every price"
psql -X -q -d shop -c "INSERT INTO orders SELECT i, (i % 50000) + 1, date '2026-11-26', 'new', 9.99
                       FROM generate_series(300001, 300500) i"
sleep 1
T=$(psql -X -At -d shop -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
before=$(digest shop)
sleep 1
psql -X -q -d shop -c "UPDATE products SET price = 0"
echo "  T = $T"
step "an increment from the WAL: cairn backup --type incr"
"$cairn" backup --type incr --source "$CAIRN_PG_URI_BASE/shop" --repo "$tmp/repo"
"$cairn" list --repo "$tmp/repo"
step "back to just before the mistake: cairn restore --to-time T --target .../shop_at_t"
"$cairn" plan --repo "$tmp/repo" --to-time "$T"
"$cairn" restore --repo "$tmp/repo" --target "$CAIRN_PG_URI_BASE/shop_at_t" --to-time "$T" --jobs 2
after=$(digest shop_at_t)
printf '  orders in shop_at_t: %s (the 500 new ones included); products priced 0: %s\n' \
    "$(psql -X -At -d shop_at_t -c "SELECT count(*) FROM orders")" \
    "$(psql -X -At -d shop_at_t -c "SELECT count(*) FROM products WHERE price = 0")"
if [ "$before" = "$after" ]; then
    printf '\nshop_at_t is exactly the shop as it was at T.\n'
else
    printf '\nMISMATCH at T\n'; exit 1
fi
