-- cairn's optional DDL capture for PostgreSQL increments.
--
-- Logical decoding does not carry schema changes.  Installed in the source
-- database (as a superuser, before the full backup that starts a chain),
-- this event trigger writes every DDL command into the log as a
-- transactional message, in commit order, with the search_path it ran
-- under; cairn stores it with the increment and replays it at its place
-- during a restore.  Without it, an increment refuses a schema change and
-- asks for a new full backup.
--
-- Keep each DDL statement in its own query string: the message carries
-- the whole query text, and a string that mixes DDL with data changes
-- would replay those changes twice.
--
--   psql -d mydb -f scripts/pg-ddl-capture.sql
CREATE SCHEMA IF NOT EXISTS _cairn;

CREATE OR REPLACE FUNCTION _cairn.emit_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.pg_logical_emit_message(true, 'cairn.ddl',
        pg_catalog.format('SELECT pg_catalog.set_config(''search_path'', %L, true);',
                          pg_catalog.current_setting('search_path'))
        || E'\n' || pg_catalog.current_query());
END
$$;

DROP EVENT TRIGGER IF EXISTS cairn_ddl_capture;
CREATE EVENT TRIGGER cairn_ddl_capture ON ddl_command_end
    EXECUTE FUNCTION _cairn.emit_ddl();
