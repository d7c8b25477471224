-- Booking: the venue's booking policy, fairs, bookings, day claims (rule 1),
-- blocked days and the waitlist. Every table has a primary key (Galera).

ALTER TABLE venues
  ADD COLUMN min_days                      INT    NOT NULL DEFAULT 1,
  ADD COLUMN max_days                      INT    NOT NULL DEFAULT 0,
  ADD COLUMN lead_days                     INT    NOT NULL DEFAULT 0,
  ADD COLUMN max_advance_days              INT    NOT NULL DEFAULT 0,
  ADD COLUMN cancel_full_refund_days       INT    NOT NULL DEFAULT 14,
  ADD COLUMN cancel_partial_refund_percent INT    NOT NULL DEFAULT 50,
  ADD COLUMN cancel_no_refund_days         INT    NOT NULL DEFAULT 3,
  ADD COLUMN deposit                       BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN opening_hours                 JSON   NOT NULL DEFAULT ('{}'),
  ADD COLUMN rules                         JSON   NOT NULL DEFAULT ('{}');

CREATE TABLE events (
  id                   BIGINT      NOT NULL AUTO_INCREMENT,
  venue_id             BIGINT      NOT NULL,
  name                 JSON        NOT NULL,
  first_day            DATE        NOT NULL,
  last_day             DATE        NOT NULL,
  stall_price          BIGINT      NOT NULL,
  currency             CHAR(3)     NOT NULL DEFAULT 'MAD',
  application_deadline DATE        NOT NULL,
  eligible_trades      JSON        NOT NULL,
  created_at           DATETIME(6) NOT NULL,
  updated_at           DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY events_venue_days (venue_id, last_day),
  CONSTRAINT events_venue FOREIGN KEY (venue_id) REFERENCES venues (id),
  CONSTRAINT events_days CHECK (first_day <= last_day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The history of every booking and application; claims hold only what is live.
CREATE TABLE bookings (
  id                BIGINT        NOT NULL AUTO_INCREMENT,
  venue_id          BIGINT        NOT NULL,
  unit_id           BIGINT        NOT NULL,
  artisan_id        BIGINT        NOT NULL,
  event_id          BIGINT        NULL,
  waitlist_entry_id BIGINT        NULL,
  first_day         DATE          NOT NULL,
  last_day          DATE          NOT NULL,
  days              INT           NOT NULL,
  status            VARCHAR(20)   NOT NULL,
  hold_expires_at   DATETIME(6)   NULL,
  amount            BIGINT        NOT NULL,
  currency          CHAR(3)       NOT NULL DEFAULT 'MAD',
  payment_method    VARCHAR(20)   NOT NULL,
  payment_ref       VARCHAR(200)  NOT NULL DEFAULT '',
  idempotency_key   VARCHAR(100)  NULL,
  trade             VARCHAR(60)   NOT NULL DEFAULT '',
  refund_amount     BIGINT        NOT NULL DEFAULT 0,
  decided_by        BIGINT        NULL,
  decided_at        DATETIME(6)   NULL,
  decision_reason   VARCHAR(1000) NOT NULL DEFAULT '',
  confirmed_at      DATETIME(6)   NULL,
  cancelled_at      DATETIME(6)   NULL,
  created_at        DATETIME(6)   NOT NULL,
  updated_at        DATETIME(6)   NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY bookings_artisan_idempotency (artisan_id, idempotency_key),
  KEY bookings_unit_days (unit_id, first_day),
  KEY bookings_status_expiry (status, hold_expires_at),
  KEY bookings_venue_status (venue_id, status, first_day),
  KEY bookings_venue_confirmed (venue_id, confirmed_at),
  KEY bookings_event (event_id),
  CONSTRAINT bookings_venue FOREIGN KEY (venue_id) REFERENCES venues (id),
  CONSTRAINT bookings_unit FOREIGN KEY (unit_id) REFERENCES units (id),
  CONSTRAINT bookings_artisan FOREIGN KEY (artisan_id) REFERENCES users (id),
  CONSTRAINT bookings_event FOREIGN KEY (event_id) REFERENCES events (id),
  CONSTRAINT bookings_decided_by FOREIGN KEY (decided_by) REFERENCES users (id),
  CONSTRAINT bookings_status CHECK (status IN ('held', 'pending_approval', 'confirmed', 'cancelled', 'expired', 'rejected')),
  CONSTRAINT bookings_days CHECK (first_day <= last_day AND days > 0),
  CONSTRAINT bookings_amount CHECK (amount >= 0 AND refund_amount >= 0 AND refund_amount <= amount)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Rule 1: one row per unit and day that a live booking holds or has
-- confirmed. The primary key is the net under the unit row lock.
CREATE TABLE day_claims (
  unit_id    BIGINT      NOT NULL,
  day        DATE        NOT NULL,
  booking_id BIGINT      NOT NULL,
  state      VARCHAR(10) NOT NULL,
  expires_at DATETIME(6) NULL,
  PRIMARY KEY (unit_id, day),
  KEY day_claims_booking (booking_id),
  CONSTRAINT day_claims_unit FOREIGN KEY (unit_id) REFERENCES units (id),
  CONSTRAINT day_claims_booking FOREIGN KEY (booking_id) REFERENCES bookings (id),
  CONSTRAINT day_claims_state CHECK (state = 'confirmed' OR (state = 'held' AND expires_at IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE unit_blocks (
  unit_id    BIGINT       NOT NULL,
  day        DATE         NOT NULL,
  reason     VARCHAR(300) NOT NULL DEFAULT '',
  created_by BIGINT       NULL,
  created_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (unit_id, day),
  CONSTRAINT unit_blocks_unit FOREIGN KEY (unit_id) REFERENCES units (id),
  CONSTRAINT unit_blocks_created_by FOREIGN KEY (created_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE waitlist_entries (
  id                 BIGINT      NOT NULL AUTO_INCREMENT,
  venue_id           BIGINT      NOT NULL,
  unit_id            BIGINT      NULL,
  event_id           BIGINT      NULL,
  artisan_id         BIGINT      NOT NULL,
  first_day          DATE        NOT NULL,
  last_day           DATE        NOT NULL,
  trade              VARCHAR(60) NOT NULL DEFAULT '',
  payment_method     VARCHAR(20) NOT NULL,
  status             VARCHAR(20) NOT NULL,
  offered_booking_id BIGINT      NULL,
  offered_at         DATETIME(6) NULL,
  created_at         DATETIME(6) NOT NULL,
  updated_at         DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY waitlist_venue_status (venue_id, status, id),
  KEY waitlist_artisan (artisan_id, created_at),
  CONSTRAINT waitlist_venue FOREIGN KEY (venue_id) REFERENCES venues (id),
  CONSTRAINT waitlist_unit FOREIGN KEY (unit_id) REFERENCES units (id),
  CONSTRAINT waitlist_event FOREIGN KEY (event_id) REFERENCES events (id),
  CONSTRAINT waitlist_artisan FOREIGN KEY (artisan_id) REFERENCES users (id),
  CONSTRAINT waitlist_offered_booking FOREIGN KEY (offered_booking_id) REFERENCES bookings (id),
  CONSTRAINT waitlist_status CHECK (status IN ('waiting', 'offered', 'expired'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
