-- What version 0.1 (before TRUNCATE capture and ENABLE ALWAYS) installed on the demo table products,
-- with the shipped rule and wake-up channel: its trigger function, its one row trigger in the ordinary
-- (origin) mode, and the trigger's comment. SchemaIT puts a database back to this and restarts.
DROP TRIGGER IF EXISTS cachegate_capture_truncate ON products;
DROP TRIGGER IF EXISTS cachegate_capture ON products;
CREATE OR REPLACE FUNCTION cachegate.capture__products() RETURNS trigger LANGUAGE plpgsql AS $cg$
DECLARE
  o jsonb;
  n jsonb;
BEGIN
  IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    o := jsonb_build_object('id', OLD."id", 'category_id', OLD."category_id");
  END IF;
  IF TG_OP <> 'DELETE' THEN
    n := jsonb_build_object('id', NEW."id", 'category_id', NEW."category_id");
  END IF;
  INSERT INTO cachegate.outbox (tbl, op, old_row, new_row) VALUES ('products', TG_OP, o, n);
  IF coalesce((SELECT idle FROM cachegate.wake), true) THEN
    PERFORM pg_notify('cachegate_outbox', '');
  END IF;
  RETURN NULL;
END
$cg$;
CREATE TRIGGER cachegate_capture AFTER INSERT OR UPDATE OR DELETE ON products FOR EACH ROW EXECUTE FUNCTION cachegate.capture__products();
COMMENT ON TRIGGER cachegate_capture ON products IS 'cachegate rule products 12f265ab522575b0';
