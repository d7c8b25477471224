-- Catalog: crafts, certificate schemes, products with their photos,
-- certificates and the links between them. users and cooperatives come from
-- 0001 and 0002. Every table has a primary key (Galera needs it).
--
-- Search: products.search_text holds the titles, descriptions, materials and
-- techniques run through storefront.NormalizeText (lower case, no accents,
-- Arabic letter variants folded), one space between words and one at each
-- end. It is binary-collated so that the FULLTEXT index, LIKE and GROUP BY
-- compare exactly as SQLite does.

CREATE TABLE crafts (
  slug       VARCHAR(50)  NOT NULL,
  name       JSON         NOT NULL,
  fragile    BOOLEAN      NOT NULL DEFAULT FALSE,
  position   INT          NOT NULL DEFAULT 0,
  created_at DATETIME(6)  NOT NULL,
  updated_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (slug),
  KEY crafts_position (position, slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO crafts (slug, name, fragile, position, created_at, updated_at) VALUES
  ('pottery',          '{"ar":"الفخار","fr":"Poterie","en":"Pottery"}',                                  TRUE,  10, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  ('silver-jewellery', '{"ar":"الحلي الفضية","fr":"Bijoux en argent","en":"Silver jewellery"}',           FALSE, 20, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  ('carpets-weaving',  '{"ar":"الزرابي والنسيج","fr":"Tapis et tissage","en":"Carpets and weaving"}',     FALSE, 30, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  ('basketry',         '{"ar":"صناعة السلال","fr":"Vannerie","en":"Basketry"}',                           FALSE, 40, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  ('woodwork',         '{"ar":"النجارة التقليدية","fr":"Travail du bois","en":"Woodwork"}',               FALSE, 50, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  ('leather',          '{"ar":"الصناعة الجلدية","fr":"Maroquinerie","en":"Leather goods"}',               FALSE, 60, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  ('embroidery',       '{"ar":"الطرز","fr":"Broderie","en":"Embroidery"}',                                FALSE, 70, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  ('argan-cosmetics',  '{"ar":"مستحضرات الأركان","fr":"Cosmétiques à l''argan","en":"Argan cosmetics"}', TRUE,  80, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6));

-- kind: national_label | collective_mark | geographical_indication |
-- label_category. levels is a JSON array of level codes, empty when the
-- scheme has none.
CREATE TABLE certificate_schemes (
  slug       VARCHAR(50)  NOT NULL,
  name       JSON         NOT NULL,
  kind       VARCHAR(30)  NOT NULL,
  has_levels BOOLEAN      NOT NULL DEFAULT FALSE,
  levels     JSON         NOT NULL,
  issuer     VARCHAR(200) NOT NULL DEFAULT '',
  position   INT          NOT NULL DEFAULT 0,
  created_at DATETIME(6)  NOT NULL,
  updated_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (slug),
  CONSTRAINT certificate_schemes_kind CHECK (kind IN ('national_label', 'collective_mark', 'geographical_indication', 'label_category'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO certificate_schemes (slug, name, kind, has_levels, levels, issuer, position, created_at, updated_at) VALUES
  ('morocco-handmade', '{"ar":"المغرب صنع يدوي","fr":"Maroc Fait Main","en":"Morocco Handmade"}', 'national_label',  TRUE,  '["1","2","3"]', 'Ministère du Tourisme, de l''Artisanat et de l''Économie Sociale et Solidaire', 10, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  ('madmoun',          '{"ar":"مضمون","fr":"Madmoun","en":"Madmoun"}',                              'label_category',  FALSE, '[]', '', 20, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  ('tazerzite',        '{"ar":"تازرزيت","fr":"Tazerzite","en":"Tazerzite"}',                        'collective_mark', FALSE, '[]', '', 30, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)),
  ('idoukan-n-oudrar', '{"ar":"إدوكان ن ودرار","fr":"Idoukan N Oudrar","en":"Idoukan N Oudrar"}',   'collective_mark', FALSE, '[]', '', 40, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6));

CREATE TABLE products (
  id                 BIGINT       NOT NULL AUTO_INCREMENT,
  cooperative_id     BIGINT       NOT NULL,
  artisan_id         BIGINT       NULL,
  slug               VARCHAR(100) NOT NULL,
  title              JSON         NOT NULL,
  description        JSON         NOT NULL,
  craft              VARCHAR(50)  NOT NULL,
  commune            VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  materials          JSON         NOT NULL,
  techniques         JSON         NOT NULL,
  height_mm          INT          NULL,
  width_mm           INT          NULL,
  depth_mm           INT          NULL,
  weight_g           INT          NULL,
  price              BIGINT       NULL,
  currency           CHAR(3)      NOT NULL DEFAULT 'MAD',
  stock              INT          NOT NULL DEFAULT 0,
  one_of_a_kind      BOOLEAN      NOT NULL DEFAULT FALSE,
  made_to_order_days INT          NULL,
  status             VARCHAR(20)  NOT NULL DEFAULT 'draft',
  unpublished_reason VARCHAR(500) NULL,
  unpublished_at     DATETIME(6)  NULL,
  unpublished_by     BIGINT       NULL,
  published_at       DATETIME(6)  NULL,
  search_title       TEXT         CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  search_text        MEDIUMTEXT   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  created_by         BIGINT       NULL,
  created_at         DATETIME(6)  NOT NULL,
  updated_at         DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY products_slug (slug),
  KEY products_cooperative_status (cooperative_id, status),
  KEY products_status_published (status, published_at, id),
  KEY products_status_price (status, price, id),
  KEY products_craft_status (craft, status),
  KEY products_commune_status (commune, status),
  KEY products_artisan (artisan_id),
  FULLTEXT KEY products_search (search_text),
  CONSTRAINT products_stock_not_negative CHECK (stock >= 0),
  CONSTRAINT products_price_positive CHECK (price IS NULL OR price > 0),
  CONSTRAINT products_one_of_a_kind_stock CHECK (one_of_a_kind = FALSE OR stock <= 1),
  CONSTRAINT products_status CHECK (status IN ('draft', 'published', 'archived')),
  CONSTRAINT products_currency CHECK (currency = 'MAD'),
  CONSTRAINT products_cooperative FOREIGN KEY (cooperative_id) REFERENCES cooperatives (id),
  CONSTRAINT products_artisan FOREIGN KEY (artisan_id) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT products_craft FOREIGN KEY (craft) REFERENCES crafts (slug) ON UPDATE CASCADE,
  CONSTRAINT products_unpublished_by FOREIGN KEY (unpublished_by) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT products_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per photo: what media.ProcessPhoto produced. variants is a JSON
-- array of {"width","height","key"}; content_hash is the SHA-256 of the
-- original upload (one product holds a picture once).
CREATE TABLE product_photos (
  id           BIGINT       NOT NULL AUTO_INCREMENT,
  product_id   BIGINT       NOT NULL,
  position     INT          NOT NULL,
  alt          JSON         NOT NULL,
  width        INT          NOT NULL,
  height       INT          NOT NULL,
  color        VARCHAR(7)   NOT NULL DEFAULT '',
  blurhash     VARCHAR(100) NOT NULL DEFAULT '',
  variants     JSON         NOT NULL,
  content_hash CHAR(64)     NOT NULL,
  created_at   DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY product_photos_content (product_id, content_hash),
  KEY product_photos_position (product_id, position),
  CONSTRAINT product_photos_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every media key a photo uses, so that the orphan sweep asks "is this key
-- referenced?" through an index instead of scanning the JSON.
CREATE TABLE product_photo_keys (
  media_key VARCHAR(300) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  photo_id  BIGINT       NOT NULL,
  PRIMARY KEY (media_key, photo_id),
  KEY product_photo_keys_photo (photo_id),
  CONSTRAINT product_photo_keys_photo FOREIGN KEY (photo_id) REFERENCES product_photos (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- status is pending, verified or rejected; "expired" is derived from
-- valid_until when read. number_norm (upper case, no blanks) is what the
-- public check looks up and what must be unique within a scheme.
CREATE TABLE certificates (
  id               BIGINT       NOT NULL AUTO_INCREMENT,
  cooperative_id   BIGINT       NOT NULL,
  scheme           VARCHAR(50)  NOT NULL,
  level            VARCHAR(20)  NULL,
  number           VARCHAR(64)  NOT NULL,
  number_norm      VARCHAR(64)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  issuer           VARCHAR(200) NOT NULL,
  valid_from       DATE         NULL,
  valid_until      DATE         NOT NULL,
  document_key     VARCHAR(300) CHARACTER SET ascii COLLATE ascii_bin NULL,
  status           VARCHAR(20)  NOT NULL DEFAULT 'pending',
  rejection_reason VARCHAR(500) NULL,
  verified_by      BIGINT       NULL,
  verified_at      DATETIME(6)  NULL,
  rejected_by      BIGINT       NULL,
  rejected_at      DATETIME(6)  NULL,
  submitted_by     BIGINT       NULL,
  created_at       DATETIME(6)  NOT NULL,
  updated_at       DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY certificates_scheme_number (scheme, number_norm),
  KEY certificates_number (number_norm),
  KEY certificates_cooperative_status (cooperative_id, status),
  KEY certificates_status_created (status, created_at),
  KEY certificates_document (document_key),
  CONSTRAINT certificates_status CHECK (status IN ('pending', 'verified', 'rejected')),
  CONSTRAINT certificates_cooperative FOREIGN KEY (cooperative_id) REFERENCES cooperatives (id) ON DELETE CASCADE,
  CONSTRAINT certificates_scheme FOREIGN KEY (scheme) REFERENCES certificate_schemes (slug) ON UPDATE CASCADE,
  CONSTRAINT certificates_verified_by FOREIGN KEY (verified_by) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT certificates_rejected_by FOREIGN KEY (rejected_by) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT certificates_submitted_by FOREIGN KEY (submitted_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE product_certificates (
  product_id     BIGINT      NOT NULL,
  certificate_id BIGINT      NOT NULL,
  created_at     DATETIME(6) NOT NULL,
  PRIMARY KEY (product_id, certificate_id),
  KEY product_certificates_certificate (certificate_id),
  CONSTRAINT product_certificates_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
  CONSTRAINT product_certificates_certificate FOREIGN KEY (certificate_id) REFERENCES certificates (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
