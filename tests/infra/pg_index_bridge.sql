-- Lets FerretDB 1.24's PostgreSQL backend use the indexes an application declares.
--
-- FerretDB creates a declared index as a btree on ((_jsonb -> 'field')), but pushes an
-- equality filter down as  _jsonb -> 'field' @> '<value>'  (jsonb containment), which a
-- btree cannot serve: every query but an update by _id scans its table. This event
-- trigger adds, for every top-level field of every index FerretDB creates, a GIN
-- expression index on the same expression, which serves exactly that containment
-- test. It is a property of the test server (MongoDB uses the declared indexes
-- directly); FerretDB's own metadata never sees these indexes, and dropping a
-- collection drops them with its table.

CREATE OR REPLACE FUNCTION releasegate_index_bridge() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  cmd record;
  k int;
  expr text;
  field text;
  tbl regclass;
BEGIN
  FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX'
  LOOP
    -- Only FerretDB's btree indexes; ours are GIN and would recurse.
    CONTINUE WHEN NOT EXISTS (
      SELECT 1 FROM pg_class c JOIN pg_am am ON am.oid = c.relam
      WHERE c.oid = cmd.objid AND am.amname = 'btree');
    SELECT i.indrelid::regclass INTO tbl FROM pg_index i WHERE i.indexrelid = cmd.objid;
    FOR k IN 1 .. (SELECT i.indnatts FROM pg_index i WHERE i.indexrelid = cmd.objid)
    LOOP
      expr := pg_get_indexdef(cmd.objid, k, true);
      field := substring(expr FROM '^\(?_jsonb -> ''([^'']+)''::text\)?$');
      CONTINUE WHEN field IS NULL;
      EXECUTE format(
        'CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> %L) jsonb_path_ops)',
        left(replace(tbl::text, '.', '_'), 40) || '_' || left(md5(field), 8) || '_gin',
        tbl, field);
    END LOOP;
  END LOOP;
END;
$$;

DROP EVENT TRIGGER IF EXISTS releasegate_index_bridge;
CREATE EVENT TRIGGER releasegate_index_bridge ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION releasegate_index_bridge();
