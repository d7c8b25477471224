-- Payments: every payment of an order or a booking, whatever its method
-- (card through a provider, cash on delivery, cash or transfer at a venue
-- office), and the processed-event log that makes each provider event take
-- effect once (rule 4). SQLite compares text with BINARY by default, so
-- provider identifiers stay case-sensitive as in the MySQL schema.

CREATE TABLE payments (
  id              INTEGER  PRIMARY KEY AUTOINCREMENT,
  purpose         TEXT     NOT NULL CHECK (purpose IN ('order', 'booking')),
  reference       TEXT     NOT NULL,
  method          TEXT     NOT NULL CHECK (method IN ('card', 'cod', 'office_cash', 'office_transfer')),
  amount          INTEGER  NOT NULL,
  currency        TEXT     NOT NULL,
  amount_refunded INTEGER  NOT NULL DEFAULT 0,
  status          TEXT     NOT NULL CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'expired', 'cancelled', 'partially_refunded', 'refunded')),
  provider        TEXT     NULL,
  provider_ref    TEXT     NULL,
  payment_ref     TEXT     NULL,
  receipt_number  TEXT     NULL,
  recorded_by     INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL,
  note            TEXT     NOT NULL DEFAULT '',
  paid_at         DATETIME NULL,
  created_at      DATETIME NOT NULL,
  updated_at      DATETIME NOT NULL,
  CHECK (amount > 0 AND amount_refunded >= 0 AND amount_refunded <= amount)
);
CREATE UNIQUE INDEX payments_provider_ref ON payments (provider, provider_ref);
CREATE UNIQUE INDEX payments_receipt ON payments (method, receipt_number);
CREATE INDEX payments_payment_ref ON payments (provider, payment_ref);
CREATE INDEX payments_reference ON payments (purpose, reference);
CREATE INDEX payments_status_created ON payments (status, created_at);

-- Rule 4: one row per provider event that took effect, inserted in the same
-- transaction as the effect. A duplicate delivery meets the primary key and
-- changes nothing.
CREATE TABLE payment_events (
  provider     TEXT     NOT NULL,
  event_id     TEXT     NOT NULL,
  type         TEXT     NOT NULL,
  purpose      TEXT     NOT NULL DEFAULT '',
  reference    TEXT     NOT NULL DEFAULT '',
  received_at  DATETIME NOT NULL,
  processed_at DATETIME NOT NULL,
  PRIMARY KEY (provider, event_id)
);
CREATE INDEX payment_events_reference ON payment_events (purpose, reference);
CREATE INDEX payment_events_received ON payment_events (received_at);
