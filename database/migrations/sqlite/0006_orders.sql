-- Orders: shipping rates by zone and weight, orders with their lines (a
-- price snapshot and how many pieces came from stock, DESIGN rule 2) and one
-- fulfilment per cooperative that ships part of an order. Amounts are
-- integers in centimes (rule 3).

CREATE TABLE shipping_rates (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  zone         TEXT    NOT NULL CHECK (zone IN ('MA', 'EU', 'WORLD')),
  max_weight_g INTEGER NOT NULL CHECK (max_weight_g > 0),
  amount       INTEGER NOT NULL CHECK (amount > 0),
  currency     TEXT    NOT NULL DEFAULT 'MAD'
);
CREATE UNIQUE INDEX shipping_rates_zone_weight ON shipping_rates (zone, max_weight_g);

-- Amana parcel rates inside Morocco, international parcel rates abroad,
-- rounded up (centimes of MAD).
INSERT INTO shipping_rates (zone, max_weight_g, amount) VALUES
  ('MA', 1000, 3500), ('MA', 2000, 4500), ('MA', 5000, 6500), ('MA', 10000, 9500), ('MA', 30000, 15000),
  ('EU', 1000, 18000), ('EU', 2000, 24000), ('EU', 5000, 38000), ('EU', 10000, 60000), ('EU', 30000, 120000),
  ('WORLD', 1000, 25000), ('WORLD', 2000, 35000), ('WORLD', 5000, 55000), ('WORLD', 10000, 90000), ('WORLD', 30000, 180000);

CREATE TABLE orders (
  id                INTEGER  PRIMARY KEY AUTOINCREMENT,
  number            TEXT     NULL,
  buyer_id          INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL,
  email             TEXT     NOT NULL,
  access_token_hash TEXT     NULL,
  idempotency_key   TEXT     NULL,
  status            TEXT     NOT NULL CHECK (status IN ('pending_payment', 'confirmed', 'paid', 'cancelled', 'expired')),
  payment_method    TEXT     NOT NULL CHECK (payment_method IN ('card', 'cod')),
  subtotal          INTEGER  NOT NULL,
  shipping          INTEGER  NOT NULL,
  total             INTEGER  NOT NULL,
  currency          TEXT     NOT NULL DEFAULT 'MAD',
  ship_name         TEXT     NOT NULL,
  ship_line1        TEXT     NOT NULL,
  ship_line2        TEXT     NOT NULL DEFAULT '',
  ship_city         TEXT     NOT NULL,
  ship_postal_code  TEXT     NOT NULL,
  ship_country      TEXT     NOT NULL,
  ship_phone        TEXT     NOT NULL DEFAULT '',
  expires_at        DATETIME NULL,
  paid_at           DATETIME NULL,
  cancelled_at      DATETIME NULL,
  created_at        DATETIME NOT NULL,
  updated_at        DATETIME NOT NULL,
  CHECK (subtotal > 0 AND shipping >= 0 AND total = subtotal + shipping)
);
CREATE UNIQUE INDEX orders_number ON orders (number);
CREATE UNIQUE INDEX orders_idempotency ON orders (idempotency_key);
CREATE INDEX orders_buyer ON orders (buyer_id, created_at);
CREATE INDEX orders_status_expires ON orders (status, expires_at);

CREATE TABLE fulfilments (
  id              INTEGER  PRIMARY KEY AUTOINCREMENT,
  order_id        INTEGER  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  cooperative_id  INTEGER  NOT NULL REFERENCES cooperatives (id),
  status          TEXT     NOT NULL CHECK (status IN ('waiting', 'to_ship', 'shipped', 'cancelled')),
  subtotal        INTEGER  NOT NULL,
  shipping        INTEGER  NOT NULL,
  weight_g        INTEGER  NOT NULL,
  carrier         TEXT     NOT NULL DEFAULT '',
  tracking_number TEXT     NOT NULL DEFAULT '',
  shipped_at      DATETIME NULL,
  created_at      DATETIME NOT NULL,
  updated_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX fulfilments_order_cooperative ON fulfilments (order_id, cooperative_id);
CREATE INDEX fulfilments_cooperative ON fulfilments (cooperative_id, created_at);

CREATE TABLE order_lines (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id       INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  fulfilment_id  INTEGER NOT NULL REFERENCES fulfilments (id) ON DELETE CASCADE,
  product_id     INTEGER NOT NULL REFERENCES products (id),
  cooperative_id INTEGER NOT NULL,
  title          TEXT    NOT NULL,
  unit_price     INTEGER NOT NULL,
  quantity       INTEGER NOT NULL,
  from_stock     INTEGER NOT NULL,
  line_total     INTEGER NOT NULL,
  weight_g       INTEGER NOT NULL,
  fragile        BOOLEAN NOT NULL DEFAULT FALSE,
  CHECK (unit_price > 0 AND quantity > 0 AND from_stock >= 0 AND from_stock <= quantity AND line_total = unit_price * quantity)
);
CREATE INDEX order_lines_order ON order_lines (order_id);
CREATE INDEX order_lines_product ON order_lines (product_id);
