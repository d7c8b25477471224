-- Marketplace money: a parcel can be delivered (cash on delivery is paid
-- then), each order line keeps the platform's commission taken when it was
-- ordered, cooperatives keep the RIB they are paid to, and every money fact
-- of a cooperative is one row of its ledger. Each row has a unique entry
-- key derived from the fact it records (sale:f12, refund:r7, payout:p3…),
-- so a fact is written once whatever the retries, duplicates or order of
-- webhooks: the unique index decides, not application memory. Amounts are
-- signed integers in centimes (rule 3); the balance is their sum.

ALTER TABLE fulfilments ADD COLUMN delivered_at DATETIME(6) NULL AFTER shipped_at;
ALTER TABLE fulfilments DROP CONSTRAINT fulfilments_status;
ALTER TABLE fulfilments ADD CONSTRAINT fulfilments_status CHECK (status IN ('waiting', 'to_ship', 'shipped', 'delivered', 'cancelled'));

ALTER TABLE order_lines
  ADD COLUMN commission_bps INT    NOT NULL DEFAULT 0,
  ADD COLUMN commission     BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_lines ADD CONSTRAINT order_lines_commission
  CHECK (commission_bps >= 0 AND commission_bps <= 10000 AND commission >= 0 AND commission <= line_total);

ALTER TABLE cooperatives ADD COLUMN rib CHAR(24) CHARACTER SET ascii COLLATE ascii_bin NULL;

-- A refund of part of a parcel. kind: card (Souk asked the card provider),
-- cash (a cash-on-delivery parcel, given back in cash), external (seen only
-- through the provider's charge.refunded: made in its dashboard). A card
-- refund is pending while the provider is being asked; pending rows count
-- against what is left to refund, so two requests never refund more than
-- was paid. request_key is the idempotency key (the client's, scoped to the
-- parcel, or one derived from the cause).
CREATE TABLE order_refunds (
  id                 BIGINT       NOT NULL AUTO_INCREMENT,
  order_id           BIGINT       NOT NULL,
  fulfilment_id      BIGINT       NOT NULL,
  cooperative_id     BIGINT       NOT NULL,
  kind               VARCHAR(10)  NOT NULL,
  status             VARCHAR(10)  NOT NULL,
  amount             BIGINT       NOT NULL,
  currency           CHAR(3)      NOT NULL DEFAULT 'MAD',
  reason             VARCHAR(500) NOT NULL DEFAULT '',
  request_key        VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  provider_refund_id VARCHAR(255) NULL,
  created_by         BIGINT       NULL,
  created_at         DATETIME(6)  NOT NULL,
  updated_at         DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY order_refunds_request (request_key),
  KEY order_refunds_fulfilment (fulfilment_id, status),
  KEY order_refunds_order (order_id, status),
  CONSTRAINT order_refunds_order FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT order_refunds_fulfilment FOREIGN KEY (fulfilment_id) REFERENCES fulfilments (id),
  CONSTRAINT order_refunds_kind CHECK (kind IN ('card', 'cash', 'external')),
  CONSTRAINT order_refunds_status CHECK (status IN ('pending', 'succeeded')),
  CONSTRAINT order_refunds_amount CHECK (amount > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A bank transfer to a cooperative's RIB, recorded by an administrator.
CREATE TABLE payouts (
  id             BIGINT       NOT NULL AUTO_INCREMENT,
  cooperative_id BIGINT       NOT NULL,
  amount         BIGINT       NOT NULL,
  currency       CHAR(3)      NOT NULL DEFAULT 'MAD',
  reference      VARCHAR(100) NOT NULL,
  paid_on        DATE         NOT NULL,
  rib            CHAR(24)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  request_key    VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_by     BIGINT       NULL,
  created_at     DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY payouts_request (request_key),
  UNIQUE KEY payouts_reference (cooperative_id, reference),
  CONSTRAINT payouts_cooperative FOREIGN KEY (cooperative_id) REFERENCES cooperatives (id),
  CONSTRAINT payouts_amount CHECK (amount > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE ledger_entries (
  id             BIGINT       NOT NULL AUTO_INCREMENT,
  cooperative_id BIGINT       NOT NULL,
  kind           VARCHAR(20)  NOT NULL,
  amount         BIGINT       NOT NULL,
  currency       CHAR(3)      NOT NULL DEFAULT 'MAD',
  order_id       BIGINT       NULL,
  fulfilment_id  BIGINT       NULL,
  refund_id      BIGINT       NULL,
  payout_id      BIGINT       NULL,
  memo           VARCHAR(255) NOT NULL DEFAULT '',
  entry_key      VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  occurred_at    DATETIME(6)  NOT NULL,
  created_at     DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ledger_entries_key (entry_key),
  KEY ledger_entries_cooperative (cooperative_id, occurred_at, id),
  KEY ledger_entries_occurred (occurred_at),
  KEY ledger_entries_fulfilment (fulfilment_id),
  CONSTRAINT ledger_entries_cooperative FOREIGN KEY (cooperative_id) REFERENCES cooperatives (id),
  CONSTRAINT ledger_entries_order FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT ledger_entries_fulfilment FOREIGN KEY (fulfilment_id) REFERENCES fulfilments (id),
  CONSTRAINT ledger_entries_refund FOREIGN KEY (refund_id) REFERENCES order_refunds (id),
  CONSTRAINT ledger_entries_payout FOREIGN KEY (payout_id) REFERENCES payouts (id),
  CONSTRAINT ledger_entries_sign CHECK (
    (kind IN ('sale', 'commission_reversal') AND amount > 0) OR
    (kind IN ('commission', 'refund', 'payout') AND amount < 0))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
