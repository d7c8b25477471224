-- Carts: the buyer's server-side cart. A guest's cart is found by the hash
-- of the random token in its cookie (the token itself is never stored); a
-- signed-in buyer's by the account, one cart each. A cart line is a product
-- and a quantity; its price and availability are read from the product
-- whenever the cart is shown. This step depends only on 0002 (users) and
-- 0005 (products). Every table has a primary key (Galera).
CREATE TABLE carts (
  id         BIGINT      NOT NULL AUTO_INCREMENT,
  token_hash CHAR(64)    CHARACTER SET ascii COLLATE ascii_bin NULL,
  user_id    BIGINT      NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY carts_token (token_hash),
  UNIQUE KEY carts_user (user_id),
  KEY carts_guest_updated (updated_at),
  CONSTRAINT carts_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT carts_owner CHECK ((token_hash IS NULL) <> (user_id IS NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE cart_items (
  cart_id    BIGINT      NOT NULL,
  product_id BIGINT      NOT NULL,
  quantity   INT         NOT NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (cart_id, product_id),
  KEY cart_items_product (product_id),
  CONSTRAINT cart_items_cart FOREIGN KEY (cart_id) REFERENCES carts (id) ON DELETE CASCADE,
  CONSTRAINT cart_items_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
  CONSTRAINT cart_items_quantity CHECK (quantity > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
