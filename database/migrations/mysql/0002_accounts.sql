-- Accounts: sessions, password resets, rate-limit counters, cooperatives with
-- their members and invitations, artisan profiles. users and user_roles come
-- from 0001. Every table has a primary key (Galera needs it).

-- Sessions are found by the SHA-256 of their token; the token itself is
-- never stored.
CREATE TABLE sessions (
  id           BIGINT       NOT NULL AUTO_INCREMENT,
  token_hash   CHAR(64)     NOT NULL,
  user_id      BIGINT       NOT NULL,
  created_at   DATETIME(6)  NOT NULL,
  last_seen_at DATETIME(6)  NOT NULL,
  expires_at   DATETIME(6)  NOT NULL,
  ip           VARCHAR(45)  NOT NULL DEFAULT '',
  user_agent   VARCHAR(255) NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY sessions_token_hash (token_hash),
  KEY sessions_user (user_id),
  KEY sessions_expires (expires_at),
  CONSTRAINT sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE password_resets (
  id         BIGINT      NOT NULL AUTO_INCREMENT,
  token_hash CHAR(64)    NOT NULL,
  user_id    BIGINT      NOT NULL,
  created_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  used_at    DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY password_resets_token_hash (token_hash),
  KEY password_resets_user (user_id),
  KEY password_resets_expires (expires_at),
  CONSTRAINT password_resets_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One fixed-window counter per bucket (e.g. login:acct:<hash>); the window
-- opens at the first hit and closes at resets_at.
CREATE TABLE rate_limits (
  bucket    VARCHAR(120) NOT NULL,
  hits      INT          NOT NULL,
  resets_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (bucket),
  KEY rate_limits_resets (resets_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE cooperatives (
  id                BIGINT       NOT NULL AUTO_INCREMENT,
  slug              VARCHAR(100) NOT NULL,
  name              VARCHAR(200) NOT NULL,
  commune           VARCHAR(100) NOT NULL,
  crafts            JSON         NOT NULL,
  registry_number   VARCHAR(50)  NOT NULL DEFAULT '',
  ice               CHAR(15)     NULL,
  story             JSON         NOT NULL,
  contact_email     VARCHAR(254) NOT NULL DEFAULT '',
  contact_phone     VARCHAR(32)  NOT NULL DEFAULT '',
  logo_key          VARCHAR(300) NULL,
  status            VARCHAR(20)  NOT NULL DEFAULT 'pending',
  women_members     INT          NULL,
  men_members       INT          NULL,
  disabled_members  INT          NULL,
  created_by        BIGINT       NULL,
  status_changed_at DATETIME(6)  NULL,
  status_changed_by BIGINT       NULL,
  created_at        DATETIME(6)  NOT NULL,
  updated_at        DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY cooperatives_slug (slug),
  UNIQUE KEY cooperatives_ice (ice),
  KEY cooperatives_status_name (status, name),
  CONSTRAINT cooperatives_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT cooperatives_status_changed_by FOREIGN KEY (status_changed_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE cooperative_members (
  cooperative_id BIGINT      NOT NULL,
  user_id        BIGINT      NOT NULL,
  role           VARCHAR(20) NOT NULL,
  created_at     DATETIME(6) NOT NULL,
  PRIMARY KEY (cooperative_id, user_id),
  KEY cooperative_members_user (user_id),
  CONSTRAINT cooperative_members_cooperative FOREIGN KEY (cooperative_id) REFERENCES cooperatives (id) ON DELETE CASCADE,
  CONSTRAINT cooperative_members_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE cooperative_invitations (
  id             BIGINT       NOT NULL AUTO_INCREMENT,
  cooperative_id BIGINT       NOT NULL,
  email          VARCHAR(254) NOT NULL,
  email_norm     VARCHAR(254) NOT NULL,
  role           VARCHAR(20)  NOT NULL,
  token_hash     CHAR(64)     NOT NULL,
  invited_by     BIGINT       NULL,
  created_at     DATETIME(6)  NOT NULL,
  expires_at     DATETIME(6)  NOT NULL,
  accepted_at    DATETIME(6)  NULL,
  accepted_by    BIGINT       NULL,
  PRIMARY KEY (id),
  UNIQUE KEY cooperative_invitations_token_hash (token_hash),
  KEY cooperative_invitations_email (cooperative_id, email_norm),
  KEY cooperative_invitations_expires (expires_at),
  CONSTRAINT cooperative_invitations_cooperative FOREIGN KEY (cooperative_id) REFERENCES cooperatives (id) ON DELETE CASCADE,
  CONSTRAINT cooperative_invitations_invited_by FOREIGN KEY (invited_by) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT cooperative_invitations_accepted_by FOREIGN KEY (accepted_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- An artisan's trades (slugs of the decree 2.21.991 activities), commune and
-- home cooperative.
CREATE TABLE artisan_profiles (
  user_id        BIGINT       NOT NULL,
  trades         JSON         NOT NULL,
  commune        VARCHAR(100) NOT NULL DEFAULT '',
  cooperative_id BIGINT       NULL,
  created_at     DATETIME(6)  NOT NULL,
  updated_at     DATETIME(6)  NOT NULL,
  PRIMARY KEY (user_id),
  KEY artisan_profiles_cooperative (cooperative_id),
  CONSTRAINT artisan_profiles_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT artisan_profiles_cooperative FOREIGN KEY (cooperative_id) REFERENCES cooperatives (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Admin listings by role.
CREATE INDEX user_roles_role ON user_roles (role, user_id);
