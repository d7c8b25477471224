package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// statusOf is the one map from error codes to HTTP statuses.
var statusOf = map[errs.Code]int{
	errs.Invalid:          http.StatusUnprocessableEntity,
	errs.BadRequest:       http.StatusBadRequest,
	errs.Unauthorized:     http.StatusUnauthorized,
	errs.Forbidden:        http.StatusForbidden,
	errs.NotFound:         http.StatusNotFound,
	errs.Conflict:         http.StatusConflict,
	errs.TooLarge:         http.StatusRequestEntityTooLarge,
	errs.UnsupportedMedia: http.StatusUnsupportedMediaType,
	errs.RateLimited:      http.StatusTooManyRequests,
	errs.Unavailable:      http.StatusServiceUnavailable,
	errs.Internal:         http.StatusInternalServerError,
}

// codeOfStatus maps Fiber's own errors (unknown route, body too large, …)
// back to codes.
func codeOfStatus(status int) errs.Code {
	for c, s := range statusOf {
		if s == status {
			return c
		}
	}
	switch {
	case status == http.StatusMethodNotAllowed:
		return errs.NotFound
	case status == http.StatusRequestTimeout:
		return errs.Unavailable
	case status >= 500:
		return errs.Internal
	}
	return errs.BadRequest
}

// Problem is an RFC 9457 problem document with Souk's extensions.
type Problem struct {
	Type       string            `json:"type"`
	Title      string            `json:"title"`
	Status     int               `json:"status"`
	Detail     string            `json:"detail,omitempty"`
	Instance   string            `json:"instance,omitempty"`
	Code       errs.Code         `json:"code"`
	Errors     []errs.FieldError `json:"errors,omitempty"`
	RequestID  string            `json:"request_id,omitempty"`
	RetryAfter int               `json:"retry_after,omitempty"`
}

// ProblemContentType is the media type of error answers.
const ProblemContentType = "application/problem+json"

// handleError is Fiber's single error handler: every error a handler
// returns, every panic recovered and every Fiber error becomes a problem
// document (or an error page for page requests). Only internal errors are
// logged with their cause; clients never see it.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	e := toError(err)
	status := statusOf[e.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if e.Code == errs.Internal {
		s.log.ErrorContext(c.UserContext(), "internal error", "err", err, "method", c.Method(), "path", c.Path(), "request_id", requestID(c))
		e = &errs.Error{Code: errs.Internal, Message: "something went wrong on our side; it has been logged"}
	}
	if e.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((e.RetryAfter+999_999_999)/1_000_000_000)))
	}
	if !isAPI(c) && s.deps.ErrorPage != nil {
		if perr := s.deps.ErrorPage(c, status, e); perr == nil {
			return nil
		}
	}
	return writeProblem(c, status, e)
}

func writeProblem(c *fiber.Ctx, status int, e *errs.Error) error {
	p := Problem{
		Type:      "https://souk.ma/problems/" + strings.ReplaceAll(string(e.Code), "_", "-"),
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    e.Message,
		Instance:  c.OriginalURL(),
		Code:      e.Code,
		Errors:    e.Fields,
		RequestID: requestID(c),
	}
	if e.RetryAfter > 0 {
		p.RetryAfter = int((e.RetryAfter + 999_999_999) / 1_000_000_000)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if len(e.Extra) > 0 { // merge extension members (e.g. conflicting_days)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		for k, v := range e.Extra {
			if _, taken := m[k]; !taken {
				m[k] = v
			}
		}
		body, _ = json.Marshal(m)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, ProblemContentType)
	return c.Send(body)
}

// toError finds the *errs.Error in err, or makes one from Fiber's errors
// and from database faults.
func toError(err error) *errs.Error {
	if e := errs.As(err); e != nil {
		return e
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code := codeOfStatus(fe.Code)
		msg := fe.Message
		switch fe.Code {
		case http.StatusNotFound:
			msg = "no such resource"
		case http.StatusMethodNotAllowed:
			msg = "no such resource for this method"
		case http.StatusRequestEntityTooLarge:
			msg = "the request body is too large"
		}
		return &errs.Error{Code: code, Message: msg, Err: err}
	}
	if t := database.Translate(err); errs.As(t) != nil {
		return errs.As(t)
	}
	return &errs.Error{Code: errs.Internal, Message: err.Error(), Err: err}
}

// decodeJSON reads a JSON body strictly: the right content type, no unknown
// fields, one value. Bad JSON is a 400 naming the position or field.
func decodeJSON(c *fiber.Ctx, dst any) error {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	if ct != fiber.MIMEApplicationJSON && !strings.HasSuffix(ct, "+json") {
		return errs.E(errs.UnsupportedMedia, "send the body as application/json")
	}
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return errs.E(errs.BadRequest, "the body is not valid JSON (at byte %d)", syn.Offset)
		case errors.As(err, &typ):
			field := typ.Field
			if field == "" {
				field = "body"
			}
			return &errs.Error{Code: errs.Invalid, Message: "the request has invalid fields",
				Fields: []errs.FieldError{{Field: field, Message: fmt.Sprintf("must be a %s", jsonKind(typ.Type.Kind().String()))}}}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &errs.Error{Code: errs.Invalid, Message: "the request has invalid fields",
				Fields: []errs.FieldError{{Field: field, Message: "is not a known field"}}}
		default:
			return errs.E(errs.BadRequest, "the body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	if dec.More() {
		return errs.E(errs.BadRequest, "the body must hold a single JSON value")
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "whole number"
	case "float32", "float64":
		return "number"
	case "slice", "array":
		return "list"
	case "map", "struct":
		return "object"
	case "bool":
		return "boolean (true or false)"
	}
	return k
}
