-- Leases: a booking of whole calendar months (at least two) pays its first
-- month like any booking and every later month through a monthly invoice.
-- This step depends only on 0003 (bookings) and 0002 (users).

ALTER TABLE bookings ADD COLUMN lease_months INTEGER NOT NULL DEFAULT 0;

CREATE TABLE lease_invoices (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  booking_id  INTEGER NOT NULL REFERENCES bookings (id),
  artisan_id  INTEGER NOT NULL REFERENCES users (id),
  venue_id    INTEGER NOT NULL REFERENCES venues (id),
  unit_id     INTEGER NOT NULL REFERENCES units (id),
  seq         INTEGER NOT NULL,
  month       TEXT    NOT NULL,
  amount      INTEGER NOT NULL,
  currency    TEXT    NOT NULL DEFAULT 'MAD',
  due_day     TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  paid_at     DATETIME NULL,
  payment_ref TEXT    NOT NULL DEFAULT '',
  created_at  DATETIME NOT NULL,
  updated_at  DATETIME NOT NULL,
  CHECK (status IN ('open', 'paid', 'overdue', 'cancelled')),
  CHECK (amount > 0 AND seq > 0),
  CHECK (status <> 'paid' OR paid_at IS NOT NULL)
);
CREATE UNIQUE INDEX lease_invoices_booking_month ON lease_invoices (booking_id, month);
CREATE INDEX lease_invoices_artisan ON lease_invoices (artisan_id, month);
CREATE INDEX lease_invoices_status_due ON lease_invoices (status, due_day);
CREATE INDEX lease_invoices_venue_paid ON lease_invoices (venue_id, paid_at);
