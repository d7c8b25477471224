package account

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxSlugLength bounds generated slugs (the column holds 100).
const MaxSlugLength = 80

// Slugify makes a URL slug from a name in Latin, Arabic or Tifinagh script:
// accents are dropped, Arabic and Tifinagh letters are transliterated the
// way Moroccan place names are usually written in Latin letters (ش → ch,
// و → ou, ⵖ → gh), and everything else becomes single dashes. A name with
// nothing to keep gives "cooperative".
func Slugify(name string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(strings.ToLower(name)) {
		switch {
		case unicode.Is(unicode.Mn, r): // combining accents left by NFKD
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '٠' && r <= '٩': // Arabic-Indic digits
			b.WriteRune('0' + (r - '٠'))
		default:
			if t, ok := transliteration[r]; ok {
				b.WriteString(t)
			} else if special, ok := latinSpecial[r]; ok {
				b.WriteString(special)
			} else {
				b.WriteByte('-')
			}
		}
	}
	s := strings.Trim(dashes.ReplaceAllString(b.String(), "-"), "-")
	if len(s) > MaxSlugLength {
		s = s[:MaxSlugLength]
		if i := strings.LastIndexByte(s, '-'); i > MaxSlugLength/2 {
			s = s[:i]
		}
		s = strings.Trim(s, "-")
	}
	if s == "" {
		return "cooperative"
	}
	return s
}

var dashes = regexp.MustCompile(`-+`)

// slugPattern is the form of a slug: lower-case letters and digits in
// words joined by single dashes.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// IsSlug reports whether s is a well-formed slug.
func IsSlug(s string) bool { return len(s) <= 100 && slugPattern.MatchString(s) }

// latinSpecial are Latin letters NFKD does not decompose.
var latinSpecial = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ł': "l", 'þ': "th", 'ı': "i", '\'': "", '’': "",
}

// transliteration maps Arabic and Tifinagh letters to Latin. Hamza and the
// tatweel vanish; short-vowel marks are combining and already dropped.
var transliteration = map[rune]string{
	// Arabic
	'ا': "a", 'أ': "a", 'إ': "i", 'آ': "a", 'ٱ': "a", 'ء': "", 'ـ': "",
	'ب': "b", 'ت': "t", 'ث': "t", 'ج': "j", 'ح': "h", 'خ': "kh", 'د': "d", 'ذ': "d",
	'ر': "r", 'ز': "z", 'س': "s", 'ش': "ch", 'ص': "s", 'ض': "d", 'ط': "t", 'ظ': "z",
	'ع': "a", 'غ': "gh", 'ف': "f", 'ق': "k", 'ك': "k", 'ل': "l", 'م': "m", 'ن': "n",
	'ه': "h", 'ة': "a", 'و': "ou", 'ؤ': "ou", 'ي': "i", 'ى': "a", 'ئ': "i",
	'ڭ': "g", 'ݣ': "g", 'گ': "g", 'ڤ': "v", 'پ': "p", 'چ': "tch",
	// Tifinagh (IRCAM)
	'ⴰ': "a", 'ⴱ': "b", 'ⴳ': "g", 'ⴷ': "d", 'ⴹ': "d", 'ⴻ': "e", 'ⴼ': "f", 'ⴽ': "k",
	'ⵀ': "h", 'ⵃ': "h", 'ⵄ': "a", 'ⵅ': "kh", 'ⵇ': "q", 'ⵉ': "i", 'ⵊ': "j", 'ⵍ': "l",
	'ⵎ': "m", 'ⵏ': "n", 'ⵓ': "ou", 'ⵔ': "r", 'ⵕ': "r", 'ⵖ': "gh", 'ⵙ': "s", 'ⵚ': "s",
	'ⵛ': "ch", 'ⵜ': "t", 'ⵟ': "t", 'ⵡ': "w", 'ⵢ': "y", 'ⵣ': "z", 'ⵥ': "z", 'ⵯ': "w",
}
