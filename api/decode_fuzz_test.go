package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/errs"
)

// decodeApp decodes each request body into the order, booking and
// cooperative request shapes, as the handlers do, and answers what
// decodeJSON said: 204 for a body it took, else the error's code.
func decodeApp(tb testing.TB) *fiber.App {
	tb.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true, BodyLimit: 1 << 20})
	app.Post("/:shape", func(c *fiber.Ctx) error {
		var dst any
		switch c.Params("shape") {
		case "order":
			dst = &orderRequest{}
		case "booking":
			dst = &bookingRequest{}
		default:
			dst = &cooperativeRequest{}
		}
		err := decodeJSON(c, dst)
		if err == nil {
			return c.SendStatus(fiber.StatusNoContent)
		}
		var e *errs.Error
		if !errors.As(err, &e) {
			return c.Status(599).SendString("not an errs.Error: " + err.Error())
		}
		switch e.Code {
		case errs.BadRequest, errs.UnsupportedMedia:
		case errs.Invalid:
			if len(e.Fields) == 0 || e.Fields[0].Field == "" {
				return c.Status(598).SendString("invalid without a field: " + e.Error())
			}
		default:
			return c.Status(597).SendString("unexpected code " + string(e.Code))
		}
		return c.Status(400).SendString(string(e.Code))
	})
	return app
}

// FuzzDecodeJSON feeds arbitrary bodies and content types to the strict
// JSON decoding every write goes through (rule 8): it never panics, a body
// it refuses is refused with a client error naming the field when it is
// one, and a body it takes is one valid JSON value.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []struct{ body, ct string }{
		{`{"items":[{"product_id":1,"quantity":2}],"email":"a@b.ma","payment_method":"cod"}`, "application/json"},
		{`{"unit_id":3,"first_day":"2026-12-01","last_day":"2026-12-03"}`, "application/json; charset=utf-8"},
		{`{"name":"Coopérative","commune":"Anzi","crafts":["pottery"],"story":{"ar":"قصة"}}`, "application/problem+json"},
		{`{"items":"x"}`, "application/json"},
		{`{"zz":1}`, "application/json"},
		{`{"a":`, "application/json"},
		{`{"a":1}{"b":2}`, "application/json"},
		{"{\"email\":\"\xff\"}", "application/json"},
		{`[1,2]`, "application/json"},
		{`{"items":[{"quantity":1e309}]}`, "application/json"},
		{`{}`, "text/plain"},
		{``, ""},
	} {
		f.Add([]byte(seed.body), seed.ct, uint8(0))
	}
	app := decodeApp(f)
	f.Fuzz(func(t *testing.T, body []byte, ct string, shape uint8) {
		path := []string{"/order", "/booking", "/cooperative"}[int(shape)%3]
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			return // a request net/http itself refuses to send (a bad header)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == 204:
			if !json.Valid(body) {
				t.Fatalf("took a body that is not valid JSON: %q", body)
			}
		case resp.StatusCode == 400 || resp.StatusCode == 413:
		default:
			t.Fatalf("%s with %q (%q): %d %s", path, body, ct, resp.StatusCode, out)
		}
	})
}
