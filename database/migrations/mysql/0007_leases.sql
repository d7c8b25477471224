-- Leases: a booking of whole calendar months (at least two) pays its first
-- month like any booking and every later month through a monthly invoice.
-- This step depends only on 0003 (bookings) and 0002 (users).

ALTER TABLE bookings ADD COLUMN lease_months INT NOT NULL DEFAULT 0;

CREATE TABLE lease_invoices (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  booking_id  BIGINT       NOT NULL,
  artisan_id  BIGINT       NOT NULL,
  venue_id    BIGINT       NOT NULL,
  unit_id     BIGINT       NOT NULL,
  seq         INT          NOT NULL,
  month       CHAR(7)      NOT NULL,
  amount      BIGINT       NOT NULL,
  currency    CHAR(3)      NOT NULL DEFAULT 'MAD',
  due_day     DATE         NOT NULL,
  status      VARCHAR(20)  NOT NULL,
  paid_at     DATETIME(6)  NULL,
  payment_ref VARCHAR(200) NOT NULL DEFAULT '',
  created_at  DATETIME(6)  NOT NULL,
  updated_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY lease_invoices_booking_month (booking_id, month),
  KEY lease_invoices_artisan (artisan_id, month),
  KEY lease_invoices_status_due (status, due_day),
  KEY lease_invoices_venue_paid (venue_id, paid_at),
  CONSTRAINT lease_invoices_booking FOREIGN KEY (booking_id) REFERENCES bookings (id),
  CONSTRAINT lease_invoices_artisan FOREIGN KEY (artisan_id) REFERENCES users (id),
  CONSTRAINT lease_invoices_venue FOREIGN KEY (venue_id) REFERENCES venues (id),
  CONSTRAINT lease_invoices_unit FOREIGN KEY (unit_id) REFERENCES units (id),
  CONSTRAINT lease_invoices_status CHECK (status IN ('open', 'paid', 'overdue', 'cancelled')),
  CONSTRAINT lease_invoices_amount CHECK (amount > 0 AND seq > 0),
  CONSTRAINT lease_invoices_paid CHECK (status <> 'paid' OR paid_at IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
