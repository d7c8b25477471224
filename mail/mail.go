// Package mail sends Souk's e-mail: through SMTP in production, or into an
// outbox folder (one .eml file a message) in development and tests, where a
// person or a test can read it.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/souk-tiznit/souk/errs"
)

// Message is one e-mail. Text is required; HTML is optional.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender sends messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Validate checks the message can be sent.
func (m Message) Validate() error {
	var f errs.Fields
	if _, err := mail.ParseAddress(m.To); err != nil {
		f.Add("to", "is not an e-mail address")
	}
	if strings.TrimSpace(m.Subject) == "" || strings.ContainsAny(m.Subject, "\r\n") {
		f.Add("subject", "is required and must be one line")
	}
	if m.Text == "" {
		f.Add("text", "is required")
	}
	return f.Err()
}

// Render builds the RFC 5322 message with a MIME body.
func Render(from string, m Message, now time.Time) []byte {
	var b bytes.Buffer
	boundary := randomHex(12)
	id := randomHex(16)
	host := "souk.localhost"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, h, ok := strings.Cut(a.Address, "@"); ok {
			host = h
		}
	}
	hdr := map[string]string{
		"From":         from,
		"To":           m.To,
		"Subject":      mime.QEncoding.Encode("utf-8", m.Subject),
		"Date":         now.UTC().Format(time.RFC1123Z),
		"Message-ID":   "<" + id + "@" + host + ">",
		"MIME-Version": "1.0",
	}
	keys := make([]string, 0, len(hdr))
	for k := range hdr {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, hdr[k])
	}
	part := func(ct, body string) {
		fmt.Fprintf(&b, "Content-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", ct)
		w := quotedprintable.NewWriter(&b)
		_, _ = w.Write([]byte(body))
		_ = w.Close()
		b.WriteString("\r\n")
	}
	if m.HTML == "" {
		part("text/plain", m.Text)
		return b.Bytes()
	}
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=%s\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\n", boundary)
	part("text/plain", m.Text)
	fmt.Fprintf(&b, "--%s\r\n", boundary)
	part("text/html", m.HTML)
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

// Outbox writes each message as an .eml file in a folder.
type Outbox struct {
	Dir  string
	From string
}

// NewOutbox makes the folder if needed.
func NewOutbox(dir, from string) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create outbox %s: %w", dir, err)
	}
	return &Outbox{Dir: dir, From: from}, nil
}

// Send writes the message atomically (temp file, then rename).
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	now := time.Now()
	name := fmt.Sprintf("%s-%s.eml", now.UTC().Format("20060102T150405.000000000Z"), randomHex(4))
	tmp := filepath.Join(o.Dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, Render(o.From, m, now), 0o640); err != nil {
		return fmt.Errorf("write outbox message: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(o.Dir, name)); err != nil {
		return fmt.Errorf("write outbox message: %w", err)
	}
	return nil
}

// Messages returns the paths of the messages in the outbox, oldest first.
func (o *Outbox) Messages() ([]string, error) {
	entries, err := os.ReadDir(o.Dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".eml") && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(o.Dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// SMTP sends through an SMTP server (STARTTLS when offered; implicit TLS for smtps://).
type SMTP struct {
	url  *url.URL
	From string
}

// NewSMTP reads smtp://user:pass@host:port or smtps://….
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("SMTP URL: cannot parse")
	}
	return &SMTP{url: u, From: from}, nil
}

// Send delivers the message, bounded by ctx and a 30-second ceiling.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("mail from %q: %w", s.From, err)
	}
	host := s.url.Hostname()
	var auth smtp.Auth
	if s.url.User != nil {
		pw, _ := s.url.User.Password()
		auth = smtp.PlainAuth("", s.url.User.Username(), pw, host)
	}
	to, _ := mail.ParseAddress(m.To)
	done := make(chan error, 1)
	go func() {
		done <- smtp.SendMail(s.url.Host, auth, from.Address, []string{to.Address}, Render(s.From, m, time.Now()))
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case err := <-done:
		if err != nil {
			return errs.Wrap(errs.Unavailable, err, "the mail server is unavailable").WithRetryAfter(time.Minute)
		}
		return nil
	case <-ctx.Done():
		return errs.Wrap(errs.Unavailable, ctx.Err(), "the mail server did not answer in time").WithRetryAfter(time.Minute)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
