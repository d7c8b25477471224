-- Carts: the buyer's server-side cart. A guest's cart is found by the hash
-- of the random token in its cookie (the token itself is never stored); a
-- signed-in buyer's by the account, one cart each. A cart line is a product
-- and a quantity; its price and availability are read from the product
-- whenever the cart is shown. This step depends only on 0002 (users) and
-- 0005 (products).
CREATE TABLE carts (
  id         INTEGER  PRIMARY KEY AUTOINCREMENT,
  token_hash TEXT     NULL,
  user_id    INTEGER  NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  CHECK ((token_hash IS NULL) <> (user_id IS NULL))
);
CREATE UNIQUE INDEX carts_token ON carts (token_hash);
CREATE UNIQUE INDEX carts_user ON carts (user_id);
CREATE INDEX carts_guest_updated ON carts (updated_at);

CREATE TABLE cart_items (
  cart_id    INTEGER  NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
  product_id INTEGER  NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  quantity   INTEGER  NOT NULL CHECK (quantity > 0),
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (cart_id, product_id)
);
CREATE INDEX cart_items_product ON cart_items (product_id);
