package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Languages are the site's languages, in the order products fall back
// between them when a text is missing.
var Languages = []string{"ar", "fr", "en"}

// DefaultLang is chosen when nothing else says.
const DefaultLang = "fr"

//go:embed locales/*.json
var localeFiles embed.FS

// message is a plain string or a set of plural forms (CLDR categories).
type message struct {
	text   string
	plural map[string]string
}

func (m *message) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &m.text)
	}
	return json.Unmarshal(b, &m.plural)
}

// Catalog holds every language's messages.
type Catalog map[string]map[string]message

// LoadCatalog reads the embedded message files: locales/{lang}.json and
// any number of per-area files locales/{area}.{lang}.json (so that pages
// of one area keep their words together). A key defined twice for one
// language is an error.
func LoadCatalog() (Catalog, error) {
	c := Catalog{}
	for _, lang := range Languages {
		c[lang] = map[string]message{}
	}
	entries, err := localeFiles.ReadDir("locales")
	if err != nil {
		return nil, fmt.Errorf("locales: %w", err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".json")
		lang := name[strings.LastIndexByte(name, '.')+1:]
		msgs, ok := c[lang]
		if !ok {
			return nil, fmt.Errorf("locale file %s: %q is not one of %v", e.Name(), lang, Languages)
		}
		b, err := localeFiles.ReadFile("locales/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("locale file %s: %w", e.Name(), err)
		}
		m := map[string]message{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("locale file %s: %w", e.Name(), err)
		}
		for k, v := range m {
			if _, dup := msgs[k]; dup {
				return nil, fmt.Errorf("locale file %s: key %q is defined twice for %s", e.Name(), k, lang)
			}
			msgs[k] = v
		}
	}
	return c, nil
}

// Missing lists, per language, the keys other languages have and it lacks.
func (c Catalog) Missing() map[string][]string {
	all := map[string]bool{}
	for _, msgs := range c {
		for k := range msgs {
			all[k] = true
		}
	}
	out := map[string][]string{}
	for lang, msgs := range c {
		for k := range all {
			if _, ok := msgs[k]; !ok {
				out[lang] = append(out[lang], k)
			}
		}
		sort.Strings(out[lang])
	}
	return out
}

var catalog = func() Catalog {
	c, err := LoadCatalog()
	if err != nil {
		panic(err) // the files are embedded: a broken one is a build defect, caught by tests
	}
	return c
}()

// T returns the message for key in lang; a missing key shows as the key
// itself in brackets (and fails TestCatalogsComplete).
func T(lang, key string) string {
	if m, ok := catalog[lang][key]; ok {
		if m.text != "" {
			return m.text
		}
		return m.plural["other"]
	}
	return "[" + key + "]"
}

// N returns the plural form of key for the count n in lang, with {n}
// replaced by the number.
func N(lang, key string, n int) string {
	m, ok := catalog[lang][key]
	if !ok {
		return "[" + key + "]"
	}
	if m.plural == nil {
		return strings.ReplaceAll(m.text, "{n}", strconv.Itoa(n))
	}
	form, ok := m.plural[PluralCategory(lang, n)]
	if !ok {
		form = m.plural["other"]
	}
	return strings.ReplaceAll(form, "{n}", strconv.Itoa(n))
}

// PluralCategory is the CLDR plural category of a whole number: Arabic has
// six (zero, one, two, few 3–10, many 11–99, other), French counts 0 and 1
// as one, English only 1.
func PluralCategory(lang string, n int) string {
	if n < 0 {
		n = -n
	}
	switch lang {
	case "ar":
		switch m := n % 100; {
		case n == 0:
			return "zero"
		case n == 1:
			return "one"
		case n == 2:
			return "two"
		case m >= 3 && m <= 10:
			return "few"
		case m >= 11 && m <= 99:
			return "many"
		}
		return "other"
	case "fr":
		if n == 0 || n == 1 {
			return "one"
		}
		return "other"
	}
	if n == 1 {
		return "one"
	}
	return "other"
}

// Dir is the writing direction of a language.
func Dir(lang string) string {
	if lang == "ar" {
		return "rtl"
	}
	return "ltr"
}

// ValidLang reports whether lang is one of the site's languages.
func ValidLang(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// PickLang chooses from an Accept-Language header (quality weights honoured).
func PickLang(acceptLanguage string) string {
	best, bestQ := "", -1.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if ValidLang(base) && q > bestQ {
			best, bestQ = base, q
		}
	}
	if best == "" {
		return DefaultLang
	}
	return best
}
