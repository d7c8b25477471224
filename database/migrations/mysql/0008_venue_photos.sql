-- Venue photos: what media.ProcessPhoto produced for a venue, as for
-- products. variants is a JSON array of {"width","height","key"};
-- content_hash is the SHA-256 of the original upload (one venue holds a
-- picture once). This step depends only on 0003 (venues).
CREATE TABLE venue_photos (
  id           BIGINT       NOT NULL AUTO_INCREMENT,
  venue_id     BIGINT       NOT NULL,
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
  UNIQUE KEY venue_photos_content (venue_id, content_hash),
  KEY venue_photos_position (venue_id, position),
  CONSTRAINT venue_photos_venue FOREIGN KEY (venue_id) REFERENCES venues (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every media key a venue photo uses, so that the orphan sweep asks "is
-- this key referenced?" through an index instead of scanning the JSON.
CREATE TABLE venue_photo_keys (
  media_key VARCHAR(300) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  photo_id  BIGINT       NOT NULL,
  PRIMARY KEY (media_key, photo_id),
  KEY venue_photo_keys_photo (photo_id),
  CONSTRAINT venue_photo_keys_photo FOREIGN KEY (photo_id) REFERENCES venue_photos (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
