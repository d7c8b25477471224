-- Orders: shipping rates by zone and weight, orders with their lines (a
-- price snapshot and how many pieces came from stock, DESIGN rule 2) and one
-- fulfilment per cooperative that ships part of an order. Amounts are
-- integers in centimes (rule 3). Every table has a primary key (Galera).

CREATE TABLE shipping_rates (
  id           BIGINT      NOT NULL AUTO_INCREMENT,
  zone         VARCHAR(10) NOT NULL,
  max_weight_g INT         NOT NULL,
  amount       BIGINT      NOT NULL,
  currency     CHAR(3)     NOT NULL DEFAULT 'MAD',
  PRIMARY KEY (id),
  UNIQUE KEY shipping_rates_zone_weight (zone, max_weight_g),
  CONSTRAINT shipping_rates_zone CHECK (zone IN ('MA', 'EU', 'WORLD')),
  CONSTRAINT shipping_rates_amount CHECK (amount > 0 AND max_weight_g > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Amana parcel rates inside Morocco, international parcel rates abroad,
-- rounded up (centimes of MAD).
INSERT INTO shipping_rates (zone, max_weight_g, amount) VALUES
  ('MA', 1000, 3500), ('MA', 2000, 4500), ('MA', 5000, 6500), ('MA', 10000, 9500), ('MA', 30000, 15000),
  ('EU', 1000, 18000), ('EU', 2000, 24000), ('EU', 5000, 38000), ('EU', 10000, 60000), ('EU', 30000, 120000),
  ('WORLD', 1000, 25000), ('WORLD', 2000, 35000), ('WORLD', 5000, 55000), ('WORLD', 10000, 90000), ('WORLD', 30000, 180000);

CREATE TABLE orders (
  id                BIGINT       NOT NULL AUTO_INCREMENT,
  number            VARCHAR(20)  NULL,
  buyer_id          BIGINT       NULL,
  email             VARCHAR(254) NOT NULL,
  access_token_hash CHAR(64)     CHARACTER SET ascii COLLATE ascii_bin NULL,
  idempotency_key   VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
  status            VARCHAR(20)  NOT NULL,
  payment_method    VARCHAR(10)  NOT NULL,
  subtotal          BIGINT       NOT NULL,
  shipping          BIGINT       NOT NULL,
  total             BIGINT       NOT NULL,
  currency          CHAR(3)      NOT NULL DEFAULT 'MAD',
  ship_name         VARCHAR(200) NOT NULL,
  ship_line1        VARCHAR(200) NOT NULL,
  ship_line2        VARCHAR(200) NOT NULL DEFAULT '',
  ship_city         VARCHAR(100) NOT NULL,
  ship_postal_code  VARCHAR(20)  NOT NULL,
  ship_country      CHAR(2)      NOT NULL,
  ship_phone        VARCHAR(30)  NOT NULL DEFAULT '',
  expires_at        DATETIME(6)  NULL,
  paid_at           DATETIME(6)  NULL,
  cancelled_at      DATETIME(6)  NULL,
  created_at        DATETIME(6)  NOT NULL,
  updated_at        DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY orders_number (number),
  UNIQUE KEY orders_idempotency (idempotency_key),
  KEY orders_buyer (buyer_id, created_at),
  KEY orders_status_expires (status, expires_at),
  CONSTRAINT orders_buyer FOREIGN KEY (buyer_id) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT orders_status CHECK (status IN ('pending_payment', 'confirmed', 'paid', 'cancelled', 'expired')),
  CONSTRAINT orders_method CHECK (payment_method IN ('card', 'cod')),
  CONSTRAINT orders_amounts CHECK (subtotal > 0 AND shipping >= 0 AND total = subtotal + shipping)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE fulfilments (
  id              BIGINT       NOT NULL AUTO_INCREMENT,
  order_id        BIGINT       NOT NULL,
  cooperative_id  BIGINT       NOT NULL,
  status          VARCHAR(20)  NOT NULL,
  subtotal        BIGINT       NOT NULL,
  shipping        BIGINT       NOT NULL,
  weight_g        INT          NOT NULL,
  carrier         VARCHAR(100) NOT NULL DEFAULT '',
  tracking_number VARCHAR(100) NOT NULL DEFAULT '',
  shipped_at      DATETIME(6)  NULL,
  created_at      DATETIME(6)  NOT NULL,
  updated_at      DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY fulfilments_order_cooperative (order_id, cooperative_id),
  KEY fulfilments_cooperative (cooperative_id, created_at),
  CONSTRAINT fulfilments_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT fulfilments_cooperative FOREIGN KEY (cooperative_id) REFERENCES cooperatives (id),
  CONSTRAINT fulfilments_status CHECK (status IN ('waiting', 'to_ship', 'shipped', 'cancelled'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE order_lines (
  id             BIGINT       NOT NULL AUTO_INCREMENT,
  order_id       BIGINT       NOT NULL,
  fulfilment_id  BIGINT       NOT NULL,
  product_id     BIGINT       NOT NULL,
  cooperative_id BIGINT       NOT NULL,
  title          VARCHAR(250) NOT NULL,
  unit_price     BIGINT       NOT NULL,
  quantity       INT          NOT NULL,
  from_stock     INT          NOT NULL,
  line_total     BIGINT       NOT NULL,
  weight_g       INT          NOT NULL,
  fragile        BOOLEAN      NOT NULL DEFAULT FALSE,
  PRIMARY KEY (id),
  KEY order_lines_order (order_id),
  KEY order_lines_product (product_id),
  CONSTRAINT order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT order_lines_fulfilment FOREIGN KEY (fulfilment_id) REFERENCES fulfilments (id) ON DELETE CASCADE,
  CONSTRAINT order_lines_product FOREIGN KEY (product_id) REFERENCES products (id),
  CONSTRAINT order_lines_amounts CHECK (unit_price > 0 AND quantity > 0 AND from_stock >= 0 AND from_stock <= quantity AND line_total = unit_price * quantity)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
