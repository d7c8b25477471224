-- Foundation: people and places. Every table has a primary key (Galera needs it).

CREATE TABLE users (
  id            BIGINT       NOT NULL AUTO_INCREMENT,
  email         VARCHAR(254) NOT NULL,
  email_norm    VARCHAR(254) NOT NULL,
  name          VARCHAR(200) NOT NULL,
  phone         VARCHAR(32)  NOT NULL DEFAULT '',
  lang          VARCHAR(2)   NOT NULL DEFAULT 'fr',
  password_hash VARCHAR(255) NOT NULL,
  created_at    DATETIME(6)  NOT NULL,
  updated_at    DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY users_email_norm (email_norm)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_roles (
  user_id BIGINT      NOT NULL,
  role    VARCHAR(20) NOT NULL,
  PRIMARY KEY (user_id, role),
  CONSTRAINT user_roles_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE venues (
  id                 BIGINT       NOT NULL AUTO_INCREMENT,
  slug               VARCHAR(100) NOT NULL,
  name               VARCHAR(200) NOT NULL,
  commune            VARCHAR(100) NOT NULL,
  kind               VARCHAR(30)  NOT NULL,
  policy             VARCHAR(20)  NOT NULL DEFAULT 'instant',
  description        JSON         NOT NULL,
  address            VARCHAR(300) NOT NULL DEFAULT '',
  latitude           DOUBLE       NULL,
  longitude          DOUBLE       NULL,
  plan_width         INT          NOT NULL DEFAULT 1000,
  plan_height        INT          NOT NULL DEFAULT 600,
  active             BOOLEAN      NOT NULL DEFAULT TRUE,
  created_at         DATETIME(6)  NOT NULL,
  updated_at         DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY venues_slug (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE units (
  id         BIGINT       NOT NULL AUTO_INCREMENT,
  venue_id   BIGINT       NOT NULL,
  code       VARCHAR(20)  NOT NULL,
  area_m2    INT          NOT NULL,
  trades     JSON         NOT NULL,
  amenities  JSON         NOT NULL,
  day_rate   BIGINT       NOT NULL,
  month_rate BIGINT       NOT NULL,
  currency   CHAR(3)      NOT NULL DEFAULT 'MAD',
  shape      JSON         NOT NULL,
  active     BOOLEAN      NOT NULL DEFAULT TRUE,
  created_at DATETIME(6)  NOT NULL,
  updated_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY units_venue_code (venue_id, code),
  CONSTRAINT units_venue FOREIGN KEY (venue_id) REFERENCES venues (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
