-- Foundation: people and places. Every table has a primary key (Galera needs it).

CREATE TABLE users (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  email         TEXT    NOT NULL,
  email_norm    TEXT    NOT NULL,
  name          TEXT    NOT NULL,
  phone         TEXT    NOT NULL DEFAULT '',
  lang          TEXT    NOT NULL DEFAULT 'fr',
  password_hash TEXT    NOT NULL,
  created_at    DATETIME NOT NULL,
  updated_at    DATETIME NOT NULL
);
CREATE UNIQUE INDEX users_email_norm ON users (email_norm);

CREATE TABLE user_roles (
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role    TEXT    NOT NULL,
  PRIMARY KEY (user_id, role)
);

CREATE TABLE venues (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  slug        TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  commune     TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  policy      TEXT    NOT NULL DEFAULT 'instant',
  description TEXT    NOT NULL,
  address     TEXT    NOT NULL DEFAULT '',
  latitude    REAL    NULL,
  longitude   REAL    NULL,
  plan_width  INTEGER NOT NULL DEFAULT 1000,
  plan_height INTEGER NOT NULL DEFAULT 600,
  active      BOOLEAN NOT NULL DEFAULT TRUE,
  created_at  DATETIME NOT NULL,
  updated_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX venues_slug ON venues (slug);

CREATE TABLE units (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  venue_id   INTEGER NOT NULL REFERENCES venues (id),
  code       TEXT    NOT NULL,
  area_m2    INTEGER NOT NULL,
  trades     TEXT    NOT NULL,
  amenities  TEXT    NOT NULL,
  day_rate   INTEGER NOT NULL,
  month_rate INTEGER NOT NULL,
  currency   TEXT    NOT NULL DEFAULT 'MAD',
  shape      TEXT    NOT NULL,
  active     BOOLEAN NOT NULL DEFAULT TRUE,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX units_venue_code ON units (venue_id, code);
