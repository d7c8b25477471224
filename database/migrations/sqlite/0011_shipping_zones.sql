-- Shipping zones: the packing fee added per fragile line (double boxing
-- and padding for pottery), per zone, in a table an administrator edits
-- with the weight brackets of shipping_rates. Centimes of MAD (rule 3).

CREATE TABLE shipping_zones (
  zone        TEXT     PRIMARY KEY CHECK (zone IN ('MA', 'EU', 'WORLD')),
  fragile_fee INTEGER  NOT NULL CHECK (fragile_fee >= 0),
  currency    TEXT     NOT NULL DEFAULT 'MAD',
  updated_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_by  INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL
);

INSERT INTO shipping_zones (zone, fragile_fee) VALUES ('MA', 2000), ('EU', 2000), ('WORLD', 2000);
