package media

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/souk-tiznit/souk/errs"
)

// minimalPDF is a small but complete PDF document.
const minimalPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" +
	"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \ntrailer<</Size 3/Root 1 0 R>>\nstartxref\n97\n%%EOF\n"

func TestValidatePDF(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		got, err := ValidatePDF(strings.NewReader(minimalPDF), 0)
		if err != nil || string(got) != minimalPDF {
			t.Errorf("ValidatePDF = %d bytes, %v; want the document back", len(got), err)
		}
		// Junk after the end marker, as some generators leave, is fine.
		withTail := minimalPDF + strings.Repeat("\x00", 500)
		if _, err := ValidatePDF(strings.NewReader(withTail), 0); err != nil {
			t.Errorf("ValidatePDF with trailing padding: %v", err)
		}
	})
	big := "%PDF-1.7\n" + strings.Repeat("x", 11<<20) + "\n%%EOF\n"
	for _, tc := range []struct {
		name    string
		data    string
		max     int64
		want    errs.Code
		message string
	}{
		{"ErrJPEG", string(encodeJPEG(t, quadrants(8, 8))), 0, errs.UnsupportedMedia, "JPEG"},
		{"ErrHTML", "<html><body>%PDF-1.4</body></html>", 0, errs.UnsupportedMedia, "HTML"},
		{"ErrZIP", "PK\x03\x04\x14\x00\x00\x00", 0, errs.UnsupportedMedia, "ZIP"},
		{"ErrLeadingJunk", "\n%PDF-1.4\n%%EOF", 0, errs.UnsupportedMedia, "PDF"},
		{"ErrEmpty", "", 0, errs.Invalid, "empty"},
		{"ErrTruncated", minimalPDF[:len(minimalPDF)-20], 0, errs.Invalid, "truncated"},
		{"ErrEOFFarFromEnd", minimalPDF + strings.Repeat(" ", 2000), 0, errs.Invalid, "truncated"},
		{"ErrOver10MB", big, 0, errs.TooLarge, "10 MB"},
		{"ErrOverCustomLimit", minimalPDF, 100, errs.TooLarge, "100 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidatePDF(strings.NewReader(tc.data), tc.max)
			wantCode(t, err, tc.want)
			if e := errs.As(err); e != nil && !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
		})
	}
	t.Run("StopsReadingAtTheLimit", func(t *testing.T) {
		src := &countingSource{r: io.MultiReader(strings.NewReader("%PDF-1.7\n"), io.LimitReader(zeros{}, 50<<20))}
		_, err := ValidatePDF(src, 0)
		wantCode(t, err, errs.TooLarge)
		if src.n > DefaultMaxPDFBytes+1 {
			t.Errorf("read %d bytes; want at most the limit plus one", src.n)
		}
	})
}

// FuzzValidatePDF: arbitrary bytes never panic, and what passes is a PDF
// with an end marker near its end.
func FuzzValidatePDF(f *testing.F) {
	f.Add([]byte(minimalPDF))
	f.Add([]byte("%PDF-"))
	f.Add([]byte("%PDF-1.4\n%%EOF"))
	f.Add([]byte("%PDF-1.4\n%%EO"))
	f.Add([]byte("<html>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ValidatePDF(bytes.NewReader(data), 4096)
		if err != nil {
			switch code := errs.CodeOf(err); code {
			case errs.Invalid, errs.TooLarge, errs.UnsupportedMedia:
			default:
				t.Fatalf("ValidatePDF answered %v (code %s); want a client error", err, code)
			}
			return
		}
		if !bytes.Equal(got, data) || !bytes.HasPrefix(got, []byte("%PDF-")) || !bytes.Contains(got[max(0, len(got)-1024):], []byte("%%EOF")) {
			t.Fatalf("ValidatePDF accepted %q", data)
		}
	})
}
