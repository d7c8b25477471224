-- Catalog: crafts, certificate schemes, products with their photos,
-- certificates and the links between them. users and cooperatives come from
-- 0001 and 0002.
--
-- Search: products.search_text holds the titles, descriptions, materials and
-- techniques run through storefront.NormalizeText, one space between words
-- and one at each end. products_fts indexes it (FTS5, external content),
-- kept in step with products by the triggers below on every write.

CREATE TABLE crafts (
  slug       TEXT     NOT NULL PRIMARY KEY,
  name       TEXT     NOT NULL,
  fragile    BOOLEAN  NOT NULL DEFAULT FALSE,
  position   INTEGER  NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
);
CREATE INDEX crafts_position ON crafts (position, slug);

INSERT INTO crafts (slug, name, fragile, position, created_at, updated_at) VALUES
  ('pottery',          '{"ar":"الفخار","fr":"Poterie","en":"Pottery"}',                                  TRUE,  10, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('silver-jewellery', '{"ar":"الحلي الفضية","fr":"Bijoux en argent","en":"Silver jewellery"}',           FALSE, 20, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('carpets-weaving',  '{"ar":"الزرابي والنسيج","fr":"Tapis et tissage","en":"Carpets and weaving"}',     FALSE, 30, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('basketry',         '{"ar":"صناعة السلال","fr":"Vannerie","en":"Basketry"}',                           FALSE, 40, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('woodwork',         '{"ar":"النجارة التقليدية","fr":"Travail du bois","en":"Woodwork"}',               FALSE, 50, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('leather',          '{"ar":"الصناعة الجلدية","fr":"Maroquinerie","en":"Leather goods"}',               FALSE, 60, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('embroidery',       '{"ar":"الطرز","fr":"Broderie","en":"Embroidery"}',                                FALSE, 70, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('argan-cosmetics',  '{"ar":"مستحضرات الأركان","fr":"Cosmétiques à l''argan","en":"Argan cosmetics"}', TRUE,  80, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

-- kind: national_label | collective_mark | geographical_indication |
-- label_category. levels is a JSON array of level codes, empty when the
-- scheme has none.
CREATE TABLE certificate_schemes (
  slug       TEXT     NOT NULL PRIMARY KEY,
  name       TEXT     NOT NULL,
  kind       TEXT     NOT NULL CHECK (kind IN ('national_label', 'collective_mark', 'geographical_indication', 'label_category')),
  has_levels BOOLEAN  NOT NULL DEFAULT FALSE,
  levels     TEXT     NOT NULL,
  issuer     TEXT     NOT NULL DEFAULT '',
  position   INTEGER  NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
);

INSERT INTO certificate_schemes (slug, name, kind, has_levels, levels, issuer, position, created_at, updated_at) VALUES
  ('morocco-handmade', '{"ar":"المغرب صنع يدوي","fr":"Maroc Fait Main","en":"Morocco Handmade"}', 'national_label',  TRUE,  '["1","2","3"]', 'Ministère du Tourisme, de l''Artisanat et de l''Économie Sociale et Solidaire', 10, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('madmoun',          '{"ar":"مضمون","fr":"Madmoun","en":"Madmoun"}',                              'label_category',  FALSE, '[]', '', 20, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('tazerzite',        '{"ar":"تازرزيت","fr":"Tazerzite","en":"Tazerzite"}',                        'collective_mark', FALSE, '[]', '', 30, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
  ('idoukan-n-oudrar', '{"ar":"إدوكان ن ودرار","fr":"Idoukan N Oudrar","en":"Idoukan N Oudrar"}',   'collective_mark', FALSE, '[]', '', 40, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

CREATE TABLE products (
  id                 INTEGER  PRIMARY KEY AUTOINCREMENT,
  cooperative_id     INTEGER  NOT NULL REFERENCES cooperatives (id),
  artisan_id         INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL,
  slug               TEXT     NOT NULL,
  title              TEXT     NOT NULL,
  description        TEXT     NOT NULL,
  craft              TEXT     NOT NULL REFERENCES crafts (slug) ON UPDATE CASCADE,
  commune            TEXT     NOT NULL DEFAULT '',
  materials          TEXT     NOT NULL,
  techniques         TEXT     NOT NULL,
  height_mm          INTEGER  NULL,
  width_mm           INTEGER  NULL,
  depth_mm           INTEGER  NULL,
  weight_g           INTEGER  NULL,
  price              INTEGER  NULL CHECK (price IS NULL OR price > 0),
  currency           TEXT     NOT NULL DEFAULT 'MAD' CHECK (currency = 'MAD'),
  stock              INTEGER  NOT NULL DEFAULT 0 CHECK (stock >= 0),
  one_of_a_kind      BOOLEAN  NOT NULL DEFAULT FALSE,
  made_to_order_days INTEGER  NULL,
  status             TEXT     NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
  unpublished_reason TEXT     NULL,
  unpublished_at     DATETIME NULL,
  unpublished_by     INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL,
  published_at       DATETIME NULL,
  search_title       TEXT     NOT NULL,
  search_text        TEXT     NOT NULL,
  created_by         INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL,
  created_at         DATETIME NOT NULL,
  updated_at         DATETIME NOT NULL,
  CHECK (one_of_a_kind = FALSE OR stock <= 1)
);
CREATE UNIQUE INDEX products_slug ON products (slug);
CREATE INDEX products_cooperative_status ON products (cooperative_id, status);
CREATE INDEX products_status_published ON products (status, published_at, id);
CREATE INDEX products_status_price ON products (status, price, id);
CREATE INDEX products_craft_status ON products (craft, status);
CREATE INDEX products_commune_status ON products (commune, status);
CREATE INDEX products_artisan ON products (artisan_id);

CREATE VIRTUAL TABLE products_fts USING fts5 (
  search_text,
  content = 'products',
  content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
  INSERT INTO products_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;

CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
  INSERT INTO products_fts (products_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;

CREATE TRIGGER products_fts_update AFTER UPDATE OF search_text ON products BEGIN
  INSERT INTO products_fts (products_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
  INSERT INTO products_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;

-- One row per photo: what media.ProcessPhoto produced. variants is a JSON
-- array of {"width","height","key"}; content_hash is the SHA-256 of the
-- original upload (one product holds a picture once).
CREATE TABLE product_photos (
  id           INTEGER  PRIMARY KEY AUTOINCREMENT,
  product_id   INTEGER  NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  position     INTEGER  NOT NULL,
  alt          TEXT     NOT NULL,
  width        INTEGER  NOT NULL,
  height       INTEGER  NOT NULL,
  color        TEXT     NOT NULL DEFAULT '',
  blurhash     TEXT     NOT NULL DEFAULT '',
  variants     TEXT     NOT NULL,
  content_hash TEXT     NOT NULL,
  created_at   DATETIME NOT NULL
);
CREATE UNIQUE INDEX product_photos_content ON product_photos (product_id, content_hash);
CREATE INDEX product_photos_position ON product_photos (product_id, position);

-- Every media key a photo uses, so that the orphan sweep asks "is this key
-- referenced?" through an index instead of scanning the JSON.
CREATE TABLE product_photo_keys (
  media_key TEXT    NOT NULL,
  photo_id  INTEGER NOT NULL REFERENCES product_photos (id) ON DELETE CASCADE,
  PRIMARY KEY (media_key, photo_id)
);
CREATE INDEX product_photo_keys_photo ON product_photo_keys (photo_id);

-- status is pending, verified or rejected; "expired" is derived from
-- valid_until when read. Dates are 'YYYY-MM-DD' text. number_norm (upper
-- case, no blanks) is what the public check looks up and what must be
-- unique within a scheme.
CREATE TABLE certificates (
  id               INTEGER  PRIMARY KEY AUTOINCREMENT,
  cooperative_id   INTEGER  NOT NULL REFERENCES cooperatives (id) ON DELETE CASCADE,
  scheme           TEXT     NOT NULL REFERENCES certificate_schemes (slug) ON UPDATE CASCADE,
  level            TEXT     NULL,
  number           TEXT     NOT NULL,
  number_norm      TEXT     NOT NULL,
  issuer           TEXT     NOT NULL,
  valid_from       DATE     NULL,
  valid_until      DATE     NOT NULL,
  document_key     TEXT     NULL,
  status           TEXT     NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'rejected')),
  rejection_reason TEXT     NULL,
  verified_by      INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL,
  verified_at      DATETIME NULL,
  rejected_by      INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL,
  rejected_at      DATETIME NULL,
  submitted_by     INTEGER  NULL REFERENCES users (id) ON DELETE SET NULL,
  created_at       DATETIME NOT NULL,
  updated_at       DATETIME NOT NULL
);
CREATE UNIQUE INDEX certificates_scheme_number ON certificates (scheme, number_norm);
CREATE INDEX certificates_number ON certificates (number_norm);
CREATE INDEX certificates_cooperative_status ON certificates (cooperative_id, status);
CREATE INDEX certificates_status_created ON certificates (status, created_at);
CREATE INDEX certificates_document ON certificates (document_key);

CREATE TABLE product_certificates (
  product_id     INTEGER  NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  certificate_id INTEGER  NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
  created_at     DATETIME NOT NULL,
  PRIMARY KEY (product_id, certificate_id)
);
CREATE INDEX product_certificates_certificate ON product_certificates (certificate_id);
