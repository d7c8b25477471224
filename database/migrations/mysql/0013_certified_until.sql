-- The certified badge kept on the product row, so that the certified
-- filter, its facet and the badge of a list read a column instead of
-- probing product_certificates ⋈ certificates for every product.
--
-- Of the certificates linked to the product that its own cooperative holds
-- and an administrator has verified (storefront.refreshCertified keeps
-- both columns in the transaction of every write that changes them):
--   certified_until  the latest valid_until; NULL when there is none;
--   certified_from   the earliest valid_from of the certificates ending on
--                    certified_until; NULL when one of them has none.
-- The product is certified on every day from certified_from to
-- certified_until, and on no day after certified_until: expiry needs no
-- job. Before certified_from an earlier certificate may still cover the
-- day; only then do the queries look at the certificates themselves.
ALTER TABLE products ADD COLUMN certified_until DATE NULL, ADD COLUMN certified_from DATE NULL;

UPDATE products SET
  certified_until = (SELECT MAX(c.valid_until) FROM product_certificates pc JOIN certificates c ON c.id = pc.certificate_id
    WHERE pc.product_id = products.id AND c.cooperative_id = products.cooperative_id AND c.status = 'verified'),
  certified_from = (SELECT CASE WHEN COUNT(*) > COUNT(c.valid_from) THEN NULL ELSE MIN(c.valid_from) END
    FROM product_certificates pc JOIN certificates c ON c.id = pc.certificate_id
    WHERE pc.product_id = products.id AND c.cooperative_id = products.cooperative_id AND c.status = 'verified'
      AND c.valid_until = (SELECT MAX(c2.valid_until) FROM product_certificates pc2 JOIN certificates c2 ON c2.id = pc2.certificate_id
        WHERE pc2.product_id = products.id AND c2.cooperative_id = products.cooperative_id AND c2.status = 'verified'))
WHERE id IN (SELECT product_id FROM product_certificates);

-- The totals and facets of the catalog (craft, commune, badge; the
-- cooperative joined for its status) read this index alone instead of the
-- table with its long texts; the certified filter's own pages come newest
-- first from products_status_published.
ALTER TABLE products ADD KEY products_catalog_counts (status, cooperative_id, craft, commune, certified_until, certified_from);
