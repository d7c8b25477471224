-- The language an order was placed in: its e-mails (paid, shipped,
-- delivered, cancelled, refunded) are written in it.
ALTER TABLE orders ADD COLUMN lang TEXT NOT NULL DEFAULT 'fr' CHECK (lang IN ('ar', 'fr', 'en'));
