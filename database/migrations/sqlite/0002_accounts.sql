-- Accounts: sessions, password resets, rate-limit counters, cooperatives with
-- their members and invitations, artisan profiles. users and user_roles come
-- from 0001.

-- Sessions are found by the SHA-256 of their token; the token itself is
-- never stored.
CREATE TABLE sessions (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  token_hash   TEXT     NOT NULL,
  user_id      INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at   DATETIME NOT NULL,
  last_seen_at DATETIME NOT NULL,
  expires_at   DATETIME NOT NULL,
  ip           TEXT     NOT NULL DEFAULT '',
  user_agent   TEXT     NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE password_resets (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  token_hash TEXT     NOT NULL,
  user_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL,
  used_at    DATETIME NULL
);
CREATE UNIQUE INDEX password_resets_token_hash ON password_resets (token_hash);
CREATE INDEX password_resets_user ON password_resets (user_id);
CREATE INDEX password_resets_expires ON password_resets (expires_at);

-- One fixed-window counter per bucket (e.g. login:acct:<hash>); the window
-- opens at the first hit and closes at resets_at.
CREATE TABLE rate_limits (
  bucket    TEXT     NOT NULL PRIMARY KEY,
  hits      INTEGER  NOT NULL,
  resets_at DATETIME NOT NULL
);
CREATE INDEX rate_limits_resets ON rate_limits (resets_at);

CREATE TABLE cooperatives (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  slug              TEXT     NOT NULL,
  name              TEXT     NOT NULL,
  commune           TEXT     NOT NULL,
  crafts            TEXT     NOT NULL,
  registry_number   TEXT     NOT NULL DEFAULT '',
  ice               TEXT     NULL,
  story             TEXT     NOT NULL,
  contact_email     TEXT     NOT NULL DEFAULT '',
  contact_phone     TEXT     NOT NULL DEFAULT '',
  logo_key          TEXT     NULL,
  status            TEXT     NOT NULL DEFAULT 'pending',
  women_members     INTEGER  NULL,
  men_members       INTEGER  NULL,
  disabled_members  INTEGER  NULL,
  created_by        INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL,
  status_changed_at DATETIME NULL,
  status_changed_by INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL,
  created_at        DATETIME NOT NULL,
  updated_at        DATETIME NOT NULL
);
CREATE UNIQUE INDEX cooperatives_slug ON cooperatives (slug);
CREATE UNIQUE INDEX cooperatives_ice ON cooperatives (ice);
CREATE INDEX cooperatives_status_name ON cooperatives (status, name);

CREATE TABLE cooperative_members (
  cooperative_id INTEGER  NOT NULL REFERENCES cooperatives (id) ON DELETE CASCADE,
  user_id        INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role           TEXT     NOT NULL,
  created_at     DATETIME NOT NULL,
  PRIMARY KEY (cooperative_id, user_id)
);
CREATE INDEX cooperative_members_user ON cooperative_members (user_id);

CREATE TABLE cooperative_invitations (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  cooperative_id INTEGER  NOT NULL REFERENCES cooperatives (id) ON DELETE CASCADE,
  email          TEXT     NOT NULL,
  email_norm     TEXT     NOT NULL,
  role           TEXT     NOT NULL,
  token_hash     TEXT     NOT NULL,
  invited_by     INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL,
  created_at     DATETIME NOT NULL,
  expires_at     DATETIME NOT NULL,
  accepted_at    DATETIME NULL,
  accepted_by    INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX cooperative_invitations_token_hash ON cooperative_invitations (token_hash);
CREATE INDEX cooperative_invitations_email ON cooperative_invitations (cooperative_id, email_norm);
CREATE INDEX cooperative_invitations_expires ON cooperative_invitations (expires_at);

-- An artisan's trades (slugs of the decree 2.21.991 activities), commune and
-- home cooperative.
CREATE TABLE artisan_profiles (
  user_id        INTEGER  NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  trades         TEXT     NOT NULL,
  commune        TEXT     NOT NULL DEFAULT '',
  cooperative_id INTEGER  NULL REFERENCES cooperatives (id) ON DELETE SET NULL,
  created_at     DATETIME NOT NULL,
  updated_at     DATETIME NOT NULL
);
CREATE INDEX artisan_profiles_cooperative ON artisan_profiles (cooperative_id);

-- Admin listings by role.
CREATE INDEX user_roles_role ON user_roles (role, user_id);
