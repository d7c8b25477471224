-- Marketplace money: a parcel can be delivered (cash on delivery is paid
-- then), each order line keeps the platform's commission taken when it was
-- ordered, cooperatives keep the RIB they are paid to, and every money fact
-- of a cooperative is one row of its ledger. Each row has a unique entry
-- key derived from the fact it records (sale:f12, refund:r7, payout:p3…),
-- so a fact is written once whatever the retries, duplicates or order of
-- webhooks: the unique index decides, not application memory. Amounts are
-- signed integers in centimes (rule 3); the balance is their sum.
--
-- SQLite cannot change a CHECK constraint in place, so fulfilments is
-- rebuilt with 'delivered' allowed. The step runs in one transaction with
-- foreign keys on, where dropping fulfilments would cascade into
-- order_lines: the lines are copied aside, both tables are dropped (lines
-- first), rebuilt and refilled with their ids.

CREATE TABLE fulfilments_copy AS SELECT * FROM fulfilments;
CREATE TABLE order_lines_copy AS SELECT * FROM order_lines;
DROP TABLE order_lines;
DROP TABLE fulfilments;

CREATE TABLE fulfilments (
  id              INTEGER  PRIMARY KEY AUTOINCREMENT,
  order_id        INTEGER  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  cooperative_id  INTEGER  NOT NULL REFERENCES cooperatives (id),
  status          TEXT     NOT NULL CHECK (status IN ('waiting', 'to_ship', 'shipped', 'delivered', 'cancelled')),
  subtotal        INTEGER  NOT NULL,
  shipping        INTEGER  NOT NULL,
  weight_g        INTEGER  NOT NULL,
  carrier         TEXT     NOT NULL DEFAULT '',
  tracking_number TEXT     NOT NULL DEFAULT '',
  shipped_at      DATETIME NULL,
  delivered_at    DATETIME NULL,
  created_at      DATETIME NOT NULL,
  updated_at      DATETIME NOT NULL
);
INSERT INTO fulfilments (id, order_id, cooperative_id, status, subtotal, shipping, weight_g, carrier, tracking_number, shipped_at, created_at, updated_at)
  SELECT id, order_id, cooperative_id, status, subtotal, shipping, weight_g, carrier, tracking_number, shipped_at, created_at, updated_at FROM fulfilments_copy;
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
  commission_bps INTEGER NOT NULL DEFAULT 0,
  commission     INTEGER NOT NULL DEFAULT 0,
  CHECK (unit_price > 0 AND quantity > 0 AND from_stock >= 0 AND from_stock <= quantity AND line_total = unit_price * quantity),
  CHECK (commission_bps >= 0 AND commission_bps <= 10000 AND commission >= 0 AND commission <= line_total)
);
INSERT INTO order_lines (id, order_id, fulfilment_id, product_id, cooperative_id, title, unit_price, quantity, from_stock, line_total, weight_g, fragile)
  SELECT id, order_id, fulfilment_id, product_id, cooperative_id, title, unit_price, quantity, from_stock, line_total, weight_g, fragile FROM order_lines_copy;
CREATE INDEX order_lines_order ON order_lines (order_id);
CREATE INDEX order_lines_product ON order_lines (product_id);
DROP TABLE order_lines_copy;
DROP TABLE fulfilments_copy;

ALTER TABLE cooperatives ADD COLUMN rib TEXT NULL;

-- A refund of part of a parcel. kind: card (Souk asked the card provider),
-- cash (a cash-on-delivery parcel, given back in cash), external (seen only
-- through the provider's charge.refunded: made in its dashboard). A card
-- refund is pending while the provider is being asked; pending rows count
-- against what is left to refund, so two requests never refund more than
-- was paid. request_key is the idempotency key (the client's, scoped to the
-- parcel, or one derived from the cause).
CREATE TABLE order_refunds (
  id                 INTEGER  PRIMARY KEY AUTOINCREMENT,
  order_id           INTEGER  NOT NULL REFERENCES orders (id),
  fulfilment_id      INTEGER  NOT NULL REFERENCES fulfilments (id),
  cooperative_id     INTEGER  NOT NULL,
  kind               TEXT     NOT NULL CHECK (kind IN ('card', 'cash', 'external')),
  status             TEXT     NOT NULL CHECK (status IN ('pending', 'succeeded')),
  amount             INTEGER  NOT NULL CHECK (amount > 0),
  currency           TEXT     NOT NULL DEFAULT 'MAD',
  reason             TEXT     NOT NULL DEFAULT '',
  request_key        TEXT     NOT NULL,
  provider_refund_id TEXT     NULL,
  created_by         INTEGER  NULL,
  created_at         DATETIME NOT NULL,
  updated_at         DATETIME NOT NULL
);
CREATE UNIQUE INDEX order_refunds_request ON order_refunds (request_key);
CREATE INDEX order_refunds_fulfilment ON order_refunds (fulfilment_id, status);
CREATE INDEX order_refunds_order ON order_refunds (order_id, status);

-- A bank transfer to a cooperative's RIB, recorded by an administrator.
CREATE TABLE payouts (
  id             INTEGER  PRIMARY KEY AUTOINCREMENT,
  cooperative_id INTEGER  NOT NULL REFERENCES cooperatives (id),
  amount         INTEGER  NOT NULL CHECK (amount > 0),
  currency       TEXT     NOT NULL DEFAULT 'MAD',
  reference      TEXT     NOT NULL,
  paid_on        TEXT     NOT NULL,
  rib            TEXT     NOT NULL,
  request_key    TEXT     NOT NULL,
  created_by     INTEGER  NULL,
  created_at     DATETIME NOT NULL
);
CREATE UNIQUE INDEX payouts_request ON payouts (request_key);
CREATE UNIQUE INDEX payouts_reference ON payouts (cooperative_id, reference);

CREATE TABLE ledger_entries (
  id             INTEGER  PRIMARY KEY AUTOINCREMENT,
  cooperative_id INTEGER  NOT NULL REFERENCES cooperatives (id),
  kind           TEXT     NOT NULL,
  amount         INTEGER  NOT NULL,
  currency       TEXT     NOT NULL DEFAULT 'MAD',
  order_id       INTEGER  NULL REFERENCES orders (id),
  fulfilment_id  INTEGER  NULL REFERENCES fulfilments (id),
  refund_id      INTEGER  NULL REFERENCES order_refunds (id),
  payout_id      INTEGER  NULL REFERENCES payouts (id),
  memo           TEXT     NOT NULL DEFAULT '',
  entry_key      TEXT     NOT NULL,
  occurred_at    DATETIME NOT NULL,
  created_at     DATETIME NOT NULL,
  CHECK ((kind IN ('sale', 'commission_reversal') AND amount > 0) OR
         (kind IN ('commission', 'refund', 'payout') AND amount < 0))
);
CREATE UNIQUE INDEX ledger_entries_key ON ledger_entries (entry_key);
CREATE INDEX ledger_entries_cooperative ON ledger_entries (cooperative_id, occurred_at, id);
CREATE INDEX ledger_entries_occurred ON ledger_entries (occurred_at);
CREATE INDEX ledger_entries_fulfilment ON ledger_entries (fulfilment_id);
