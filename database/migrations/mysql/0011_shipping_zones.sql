-- Shipping zones: the packing fee added per fragile line (double boxing
-- and padding for pottery), per zone, in a table an administrator edits
-- with the weight brackets of shipping_rates. Centimes of MAD (rule 3).

CREATE TABLE shipping_zones (
  zone        VARCHAR(10) NOT NULL,
  fragile_fee BIGINT      NOT NULL,
  currency    CHAR(3)     NOT NULL DEFAULT 'MAD',
  updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_by  BIGINT      NULL,
  PRIMARY KEY (zone),
  CONSTRAINT shipping_zones_zone CHECK (zone IN ('MA', 'EU', 'WORLD')),
  CONSTRAINT shipping_zones_fee CHECK (fragile_fee >= 0),
  CONSTRAINT shipping_zones_user FOREIGN KEY (updated_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO shipping_zones (zone, fragile_fee) VALUES ('MA', 2000), ('EU', 2000), ('WORLD', 2000);
