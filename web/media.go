package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/media"
)

// serveLocalMedia serves the local media folder at /media/<key>: public
// keys to anyone, private ones only with a valid, unexpired signature (the
// store's URL method makes them). With MinIO, browsers fetch from MinIO or
// the CDN directly and this route is not mounted.
func serveLocalMedia(l *media.Local) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := strings.TrimPrefix(c.Path(), "/media/")
		if !media.IsPublic(key) {
			if err := l.VerifySignedURL(key, c.Query("exp"), c.Query("sig"), time.Now()); err != nil {
				return errs.E(errs.Forbidden, "this file needs a valid, unexpired link")
			}
			c.Set(fiber.HeaderCacheControl, "private, no-store")
		}
		f, obj, err := l.Open(key)
		if err != nil {
			if errs.Is(err, errs.Invalid) {
				return errs.E(errs.NotFound, "no such file")
			}
			return err
		}
		f.Close()
		etag := `"` + obj.ETag + `"`
		if c.Get(fiber.HeaderIfNoneMatch) == etag {
			return c.SendStatus(http.StatusNotModified)
		}
		c.Set(fiber.HeaderContentType, obj.ContentType)
		if obj.CacheControl != "" && media.IsPublic(key) {
			c.Set(fiber.HeaderCacheControl, obj.CacheControl)
		}
		c.Set(fiber.HeaderETag, etag)
		c.Set("X-Content-Type-Options", "nosniff")
		c.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		return c.SendFile(l.Dir() + "/" + key)
	}
}
