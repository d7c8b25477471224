-- Venue photos: what media.ProcessPhoto produced for a venue, as for
-- products. variants is a JSON array of {"width","height","key"};
-- content_hash is the SHA-256 of the original upload (one venue holds a
-- picture once). This step depends only on 0003 (venues).
CREATE TABLE venue_photos (
  id           INTEGER  PRIMARY KEY AUTOINCREMENT,
  venue_id     INTEGER  NOT NULL REFERENCES venues (id) ON DELETE CASCADE,
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
CREATE UNIQUE INDEX venue_photos_content ON venue_photos (venue_id, content_hash);
CREATE INDEX venue_photos_position ON venue_photos (venue_id, position);

-- Every media key a venue photo uses, so that the orphan sweep asks "is
-- this key referenced?" through an index instead of scanning the JSON.
CREATE TABLE venue_photo_keys (
  media_key TEXT    NOT NULL,
  photo_id  INTEGER NOT NULL REFERENCES venue_photos (id) ON DELETE CASCADE,
  PRIMARY KEY (media_key, photo_id)
);
CREATE INDEX venue_photo_keys_photo ON venue_photo_keys (photo_id);
