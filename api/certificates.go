package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/storefront"
)

const (
	// maxCertificatePDF is the largest certificate document (10 MB).
	maxCertificatePDF = media.DefaultMaxPDFBytes
	// documentURLExpiry is how long the signed link to a certificate
	// document works: long enough to open it, too short to share it.
	documentURLExpiry = 5 * time.Minute
	// certificatePrefix is where certificate documents are stored; private,
	// so only signed links reach them.
	certificatePrefix = media.PrivatePrefix + "certificates/"
)

// certificateDocumentKey is a new private key for a cooperative's
// certificate document: random, so that no two uploads share an object and
// a failed one can be deleted without a look at the others.
func certificateDocumentKey(cooperativeID int64) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("name certificate document: %w", err)
	}
	return fmt.Sprintf("%s%d/%s.pdf", certificatePrefix, cooperativeID, hex.EncodeToString(b)), nil
}

// submitCertificate records a certificate with its audit document
// (multipart: scheme, level, number, issuer, valid_from, valid_until,
// document), pending an administrator's verification. The document must be
// a PDF of at most 10 MB (415, 413, 422 when truncated); it is stored
// privately, then the certificate is recorded, and the document deleted
// again if that fails.
func (s *Server) submitCertificate(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	cert, err := s.receiveCertificate(c, cat, id, nil)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cert)
}

// receiveCertificate reads a certificate form (multipart: scheme, level,
// number, issuer, valid_from, valid_until, document, and the extra fields
// named, which are ignored), stores the document privately and records the
// certificate for cooperative id, deleting the document again if that
// fails.
func (s *Server) receiveCertificate(c *fiber.Ctx, cat *storefront.Service, id int64, extra []string) (storefront.Certificate, error) {
	fields := map[string]bool{"scheme": true, "level": true, "number": true, "issuer": true, "valid_from": true, "valid_until": true}
	for _, name := range extra {
		fields[name] = true
	}
	var doc []byte
	values, err := readMultipart(c, multipartForm{
		maxBody: maxCertificatePDF + multipartOverhead,
		fields:  fields,
		file:    "document",
		onFile: func(r io.Reader) error {
			data, err := media.ValidatePDF(r, maxCertificatePDF)
			if errs.Is(err, errs.Invalid) {
				return &errs.Error{Code: errs.Invalid, Message: "the document cannot be used",
					Fields: []errs.FieldError{{Field: "document", Message: errs.As(err).Message}}, Err: err}
			}
			doc = data
			return err
		},
	})
	if err != nil {
		return storefront.Certificate{}, err
	}
	in := storefront.CertificateInput{Scheme: strings.TrimSpace(values["scheme"]), Level: values["level"],
		Number: values["number"], Issuer: values["issuer"]}
	var f errs.Fields
	for _, d := range []struct {
		name string
		dst  *storefront.Date
	}{{"valid_from", &in.ValidFrom}, {"valid_until", &in.ValidUntil}} {
		v := strings.TrimSpace(values[d.name])
		if v == "" {
			continue
		}
		day, err := storefront.ParseDate(v)
		if err != nil {
			f.Add(d.name, "must be a date YYYY-MM-DD")
			continue
		}
		*d.dst = day
	}
	if err := f.Err(); err != nil {
		return storefront.Certificate{}, err
	}

	ctx := c.UserContext()
	if in.DocumentKey, err = certificateDocumentKey(id); err != nil {
		return storefront.Certificate{}, err
	}
	if err := s.deps.Media.Put(ctx, in.DocumentKey, bytes.NewReader(doc), int64(len(doc)),
		media.PutOptions{ContentType: media.PDFContentType, CacheControl: "private, no-store"}); err != nil {
		s.dropDocument(in.DocumentKey)
		return storefront.Certificate{}, storeUnavailable(err, "certificate document")
	}
	cert, err := cat.SubmitCertificate(ctx, principal(c), id, in)
	if err != nil {
		s.dropDocument(in.DocumentKey)
		return storefront.Certificate{}, err
	}
	return cert, nil
}

// dropDocument deletes a certificate document whose record failed; the
// orphan sweep removes it later if the store is down now.
func (s *Server) dropDocument(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := s.deps.Media.Delete(ctx, key); err != nil {
		s.log.WarnContext(ctx, "certificate document left for the orphan sweep", "key", key, "err", err)
	}
}

// listCertificates lists a cooperative's certificates, newest first.
func (s *Server) listCertificates(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	certs, err := cat.ListCooperativeCertificates(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	if certs == nil {
		certs = []storefront.Certificate{}
	}
	return c.JSON(listAnswer[storefront.Certificate]{Items: certs, Total: int64(len(certs)), Page: 1, PerPage: max(len(certs), 1)})
}

// checkCertificate is the public check of a certificate number (blanks and
// case ignored; a number with slashes is sent percent-encoded): one answer
// per scheme that knows it, with its holder, validity, status and
// products.
func (s *Server) checkCertificate(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	number, err := url.PathUnescape(c.Params("number"))
	if err != nil {
		return errs.E(errs.NotFound, "no certificate has this number")
	}
	checks, err := cat.FindCertificateByNumber(c.UserContext(), number)
	if err != nil {
		return err
	}
	return c.JSON(listAnswer[storefront.CertificateCheck]{Items: checks, Total: int64(len(checks)), Page: 1, PerPage: max(len(checks), 1)})
}

// showCertificateDocument redirects the cooperative's members and
// administrators to a short-lived signed link to the audit document;
// anyone else gets 404, as if there were no such certificate.
func (s *Server) showCertificateDocument(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := idParam(c, "id", "no such certificate")
	if err != nil {
		return err
	}
	cert, err := cat.FindCertificate(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	if cert.DocumentKey == "" {
		return errs.E(errs.NotFound, "this certificate has no document")
	}
	u, err := s.deps.Media.URL(c.UserContext(), cert.DocumentKey, documentURLExpiry)
	if err != nil {
		return fmt.Errorf("sign the link to certificate %d's document: %w", id, err)
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Redirect(u, fiber.StatusFound)
}

// verifyCertificate records an administrator's check of a certificate.
func (s *Server) verifyCertificate(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := idParam(c, "id", "no such certificate")
	if err != nil {
		return err
	}
	cert, err := cat.VerifyCertificate(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	return c.JSON(cert)
}

// rejectCertificate refuses or revokes a certificate with a reason.
func (s *Server) rejectCertificate(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := idParam(c, "id", "no such certificate")
	if err != nil {
		return err
	}
	var in reasonRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	cert, err := cat.RejectCertificate(c.UserContext(), principal(c), id, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(cert)
}
