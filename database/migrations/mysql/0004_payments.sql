-- Payments: every payment of an order or a booking, whatever its method
-- (card through a provider, cash on delivery, cash or transfer at a venue
-- office), and the processed-event log that makes each provider event take
-- effect once (rule 4). Every table has a primary key (Galera).
--
-- Provider identifiers (event ids, session ids, payment intent ids) are
-- case-sensitive: they are stored ascii_bin, so that two ids that differ only
-- in case are never taken for one.

CREATE TABLE payments (
  id              BIGINT       NOT NULL AUTO_INCREMENT,
  purpose         VARCHAR(20)  NOT NULL,
  reference       VARCHAR(100) NOT NULL,
  method          VARCHAR(20)  NOT NULL,
  amount          BIGINT       NOT NULL,
  currency        CHAR(3)      NOT NULL,
  amount_refunded BIGINT       NOT NULL DEFAULT 0,
  status          VARCHAR(20)  NOT NULL,
  provider        VARCHAR(20)  CHARACTER SET ascii COLLATE ascii_bin NULL,
  provider_ref    VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
  payment_ref     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
  receipt_number  VARCHAR(100) NULL,
  recorded_by     BIGINT       NULL,
  note            VARCHAR(500) NOT NULL DEFAULT '',
  paid_at         DATETIME(6)  NULL,
  created_at      DATETIME(6)  NOT NULL,
  updated_at      DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY payments_provider_ref (provider, provider_ref),
  UNIQUE KEY payments_receipt (method, receipt_number),
  KEY payments_payment_ref (provider, payment_ref),
  KEY payments_reference (purpose, reference),
  KEY payments_status_created (status, created_at),
  CONSTRAINT payments_recorded_by FOREIGN KEY (recorded_by) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT payments_purpose CHECK (purpose IN ('order', 'booking')),
  CONSTRAINT payments_method CHECK (method IN ('card', 'cod', 'office_cash', 'office_transfer')),
  CONSTRAINT payments_status CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'expired', 'cancelled', 'partially_refunded', 'refunded')),
  CONSTRAINT payments_amount CHECK (amount > 0 AND amount_refunded >= 0 AND amount_refunded <= amount)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Rule 4: one row per provider event that took effect, inserted in the same
-- transaction as the effect. A duplicate delivery meets the primary key and
-- changes nothing.
CREATE TABLE payment_events (
  provider     VARCHAR(20)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  event_id     VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  type         VARCHAR(100) NOT NULL,
  purpose      VARCHAR(20)  NOT NULL DEFAULT '',
  reference    VARCHAR(100) NOT NULL DEFAULT '',
  received_at  DATETIME(6)  NOT NULL,
  processed_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (provider, event_id),
  KEY payment_events_reference (purpose, reference),
  KEY payment_events_received (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
