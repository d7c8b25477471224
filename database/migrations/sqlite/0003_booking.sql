-- Booking: the venue's booking policy, fairs, bookings, day claims (rule 1),
-- blocked days and the waitlist. Days are 'YYYY-MM-DD' TEXT, which sorts
-- and compares as dates; instants are UTC.

ALTER TABLE venues ADD COLUMN min_days                      INTEGER NOT NULL DEFAULT 1;
ALTER TABLE venues ADD COLUMN max_days                      INTEGER NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN lead_days                     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN max_advance_days              INTEGER NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN cancel_full_refund_days       INTEGER NOT NULL DEFAULT 14;
ALTER TABLE venues ADD COLUMN cancel_partial_refund_percent INTEGER NOT NULL DEFAULT 50;
ALTER TABLE venues ADD COLUMN cancel_no_refund_days         INTEGER NOT NULL DEFAULT 3;
ALTER TABLE venues ADD COLUMN deposit                       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN opening_hours                 TEXT    NOT NULL DEFAULT '{}';
ALTER TABLE venues ADD COLUMN rules                         TEXT    NOT NULL DEFAULT '{}';

CREATE TABLE events (
  id                   INTEGER PRIMARY KEY AUTOINCREMENT,
  venue_id             INTEGER NOT NULL REFERENCES venues (id),
  name                 TEXT    NOT NULL,
  first_day            TEXT    NOT NULL,
  last_day             TEXT    NOT NULL,
  stall_price          INTEGER NOT NULL,
  currency             TEXT    NOT NULL DEFAULT 'MAD',
  application_deadline TEXT    NOT NULL,
  eligible_trades      TEXT    NOT NULL,
  created_at           DATETIME NOT NULL,
  updated_at           DATETIME NOT NULL,
  CHECK (first_day <= last_day)
);
CREATE INDEX events_venue_days ON events (venue_id, last_day);

-- The history of every booking and application; claims hold only what is live.
CREATE TABLE bookings (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  venue_id          INTEGER NOT NULL REFERENCES venues (id),
  unit_id           INTEGER NOT NULL REFERENCES units (id),
  artisan_id        INTEGER NOT NULL REFERENCES users (id),
  event_id          INTEGER NULL REFERENCES events (id),
  waitlist_entry_id INTEGER NULL,
  first_day         TEXT    NOT NULL,
  last_day          TEXT    NOT NULL,
  days              INTEGER NOT NULL,
  status            TEXT    NOT NULL,
  hold_expires_at   DATETIME NULL,
  amount            INTEGER NOT NULL,
  currency          TEXT    NOT NULL DEFAULT 'MAD',
  payment_method    TEXT    NOT NULL,
  payment_ref       TEXT    NOT NULL DEFAULT '',
  idempotency_key   TEXT    NULL,
  trade             TEXT    NOT NULL DEFAULT '',
  refund_amount     INTEGER NOT NULL DEFAULT 0,
  decided_by        INTEGER NULL REFERENCES users (id),
  decided_at        DATETIME NULL,
  decision_reason   TEXT    NOT NULL DEFAULT '',
  confirmed_at      DATETIME NULL,
  cancelled_at      DATETIME NULL,
  created_at        DATETIME NOT NULL,
  updated_at        DATETIME NOT NULL,
  CHECK (status IN ('held', 'pending_approval', 'confirmed', 'cancelled', 'expired', 'rejected')),
  CHECK (first_day <= last_day AND days > 0),
  CHECK (amount >= 0 AND refund_amount >= 0 AND refund_amount <= amount)
);
CREATE UNIQUE INDEX bookings_artisan_idempotency ON bookings (artisan_id, idempotency_key);
CREATE INDEX bookings_unit_days ON bookings (unit_id, first_day);
CREATE INDEX bookings_status_expiry ON bookings (status, hold_expires_at);
CREATE INDEX bookings_venue_status ON bookings (venue_id, status, first_day);
CREATE INDEX bookings_venue_confirmed ON bookings (venue_id, confirmed_at);
CREATE INDEX bookings_event ON bookings (event_id);

-- Rule 1: one row per unit and day that a live booking holds or has
-- confirmed. The primary key is the net; writers are serialised by
-- BEGIN IMMEDIATE.
CREATE TABLE day_claims (
  unit_id    INTEGER NOT NULL REFERENCES units (id),
  day        TEXT    NOT NULL,
  booking_id INTEGER NOT NULL REFERENCES bookings (id),
  state      TEXT    NOT NULL,
  expires_at DATETIME NULL,
  PRIMARY KEY (unit_id, day),
  CHECK (state = 'confirmed' OR (state = 'held' AND expires_at IS NOT NULL))
) WITHOUT ROWID;
CREATE INDEX day_claims_booking ON day_claims (booking_id);

CREATE TABLE unit_blocks (
  unit_id    INTEGER NOT NULL REFERENCES units (id),
  day        TEXT    NOT NULL,
  reason     TEXT    NOT NULL DEFAULT '',
  created_by INTEGER NULL REFERENCES users (id),
  created_at DATETIME NOT NULL,
  PRIMARY KEY (unit_id, day)
) WITHOUT ROWID;

CREATE TABLE waitlist_entries (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  venue_id           INTEGER NOT NULL REFERENCES venues (id),
  unit_id            INTEGER NULL REFERENCES units (id),
  event_id           INTEGER NULL REFERENCES events (id),
  artisan_id         INTEGER NOT NULL REFERENCES users (id),
  first_day          TEXT    NOT NULL,
  last_day           TEXT    NOT NULL,
  trade              TEXT    NOT NULL DEFAULT '',
  payment_method     TEXT    NOT NULL,
  status             TEXT    NOT NULL,
  offered_booking_id INTEGER NULL REFERENCES bookings (id),
  offered_at         DATETIME NULL,
  created_at         DATETIME NOT NULL,
  updated_at         DATETIME NOT NULL,
  CHECK (status IN ('waiting', 'offered', 'expired'))
);
CREATE INDEX waitlist_venue_status ON waitlist_entries (venue_id, status, id);
CREATE INDEX waitlist_artisan ON waitlist_entries (artisan_id, created_at);
