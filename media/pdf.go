package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/souk-tiznit/souk/errs"
)

// DefaultMaxPDFBytes is the largest certificate document accepted (10 MiB).
const DefaultMaxPDFBytes = 10 << 20

// PDFContentType is the content type to store validated documents with.
const PDFContentType = "application/pdf"

// pdfTailWindow is how far from the end the "%%EOF" marker may sit; PDF
// readers look in the last kilobyte too, trailing junk included.
const pdfTailWindow = 1024

// ValidatePDF reads a certificate document and returns its bytes when it is
// a plausible, complete PDF of at most maxBytes (DefaultMaxPDFBytes when
// maxBytes ≤ 0). The type comes from the bytes: a file that does not start
// with "%PDF-" is errs.UnsupportedMedia naming what it looks like; a larger
// file is errs.TooLarge; a PDF without "%%EOF" near its end is errs.Invalid
// (truncated). It does not parse the document: documents stay private and
// are served as attachments, never rendered by the server.
func ValidatePDF(r io.Reader, maxBytes int64) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxPDFBytes
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read document: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return nil, errs.E(errs.Invalid, "the file is empty")
	}
	if !bytes.HasPrefix(head, []byte("%PDF-")) {
		what := describe(head)
		if f, _ := sniffImage(head); f != "" {
			what = "a " + map[string]string{"jpeg": "JPEG", "png": "PNG", "webp": "WebP"}[f] + " image"
		}
		return nil, errs.E(errs.UnsupportedMedia, "documents must be PDF; this file looks like %s", what)
	}
	data, err := readAllLimited(io.MultiReader(bytes.NewReader(head), r), maxBytes)
	if err != nil {
		return nil, err
	}
	tail := data[max(0, len(data)-pdfTailWindow):]
	if !bytes.Contains(tail, []byte("%%EOF")) {
		return nil, errs.E(errs.Invalid, "the PDF is truncated: it has no end-of-file marker")
	}
	return data, nil
}
