-- The language an order was placed in: its e-mails (paid, shipped,
-- delivered, cancelled, refunded) are written in it.
ALTER TABLE orders ADD COLUMN lang CHAR(2) NOT NULL DEFAULT 'fr',
  ADD CONSTRAINT orders_lang CHECK (lang IN ('ar', 'fr', 'en'));
