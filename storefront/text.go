package storefront

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeText folds text for search, so that what a buyer types finds
// what a cooperative wrote whatever the spelling details:
//
//   - compatibility decomposition (NFKD), then every combining mark is
//     dropped: French accents (é → e), Arabic harakat (fatha, damma, kasra,
//     shadda, sukun, tanwin, superscript alef) and the hamza carried by a
//     letter (أ إ آ → ا, ؤ → و, ئ → ي); ligatures and presentation forms
//     become their letters (ﻻ → لا, ﬁ → fi);
//   - the tatweel (ـ) and invisible format characters vanish without
//     splitting the word;
//   - ٱ → ا, ى → ي, ة → ه, Persian ی → ي and ک → ك;
//   - Arabic-Indic digits become ASCII digits;
//   - lower case, and ß → ss, æ → ae, œ → oe, ø → o and the like;
//   - anything that is not a letter or a digit of the Basic Multilingual
//     Plane separates words; words are joined by single spaces, with none
//     at either end.
//
// The result holds only lower-case letters, digits and single spaces, so
// that SQLite's FTS5 unicode61 tokenizer, MariaDB's FULLTEXT parser and a
// LIKE on spaces all cut it into the same words. It is pure and
// idempotent: NormalizeText(NormalizeText(s)) == NormalizeText(s).
func NormalizeText(s string) string {
	if isLowerASCIIWords(s) {
		return s
	}
	var n normalizer
	n.b.Grow(len(s))
	if isASCII(s) {
		for i := 0; i < len(s); i++ {
			n.ascii(s[i])
		}
		return n.b.String()
	}
	// Invalid UTF-8 separates words. It goes before NFKD, which copies a
	// bad byte through and leaves the segment after it undecomposed
	// ("\xf3إ" kept its hamza).
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	// Strings are decomposed in one go; a rune whose lower case needs
	// decomposing again (rare) is handled by put.
	d := norm.NFKD.String(s)
	for _, r := range d {
		n.put(r, 0)
	}
	return n.b.String()
}

// normalizer writes words separated by single spaces.
type normalizer struct {
	b     strings.Builder
	space bool // a separator was seen since the last written rune
}

func (n *normalizer) sep() { n.space = true }

func (n *normalizer) emit(r rune) {
	if n.space && n.b.Len() > 0 {
		n.b.WriteByte(' ')
	}
	n.space = false
	n.b.WriteRune(r)
}

func (n *normalizer) emitString(s string) {
	for _, r := range s {
		n.emit(r)
	}
}

func (n *normalizer) ascii(c byte) {
	switch {
	case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		n.emit(rune(c))
	case c >= 'A' && c <= 'Z':
		n.emit(rune(c + 'a' - 'A'))
	default:
		n.sep()
	}
}

// put writes one rune of NFKD-decomposed text. depth bounds the rare
// re-decomposition of a lower-cased rune.
func (n *normalizer) put(r rune, depth int) {
	if r < utf8.RuneSelf {
		n.ascii(byte(r))
		return
	}
	if r >= 0x0600 && r <= 0x06FF { // Arabic block
		switch {
		case r == 'ـ': // tatweel stretches a word; it is not a letter
			return
		case r >= '٠' && r <= '٩':
			n.emit('0' + (r - '٠'))
			return
		case r >= '۰' && r <= '۹':
			n.emit('0' + (r - '۰'))
			return
		}
		if m, ok := arabicFold[r]; ok {
			n.emit(m)
			return
		}
		switch {
		case r >= 'ء' && r <= 'غ' || r >= 'ف' && r <= 'ي': // the letters
			n.emit(r)
			return
		case r >= 0x064B && r <= 0x065F || r == 0x0670: // harakat, hamza marks, superscript alef
			return
		}
	}
	if r >= 0x0300 && r <= 0x036F { // combining accents left by NFKD
		return
	}
	if unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) {
		return // combining marks and invisible format characters
	}
	if s, ok := latinFold[r]; ok {
		n.emitString(s)
		return
	}
	if r > 0xFFFF || !(unicode.IsLetter(r) || unicode.Is(unicode.Nd, r)) || unicode.Is(unicode.Lm, r) {
		n.sep()
		return
	}
	lr := unicode.ToLower(r)
	if lr != r && depth == 0 {
		if s := string(lr); !norm.NFKD.IsNormalString(s) || latinFold[lr] != "" {
			for _, x := range norm.NFKD.String(s) {
				n.put(x, depth+1)
			}
			return
		}
	}
	n.emit(lr)
}

// arabicFold maps Arabic letter variants to the letter searched for.
// Hamza-carrying letters need no entry: NFKD splits off their hamza mark.
var arabicFold = map[rune]rune{
	'ٱ': 'ا', // alef wasla
	'ٲ': 'ا', // alef with wavy hamza above
	'ٳ': 'ا', // alef with wavy hamza below
	'ى': 'ي', // alef maqsura
	'ة': 'ه', // ta marbuta
	'ی': 'ي', // Persian yeh
	'ک': 'ك', // keheh
}

// latinFold spells out Latin letters that have no decomposition.
var latinFold = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'ø': "o", 'Ø': "o",
	'đ': "d", 'Đ': "d", 'ł': "l", 'Ł': "l", 'þ': "th", 'Þ': "th", 'ı': "i", 'ħ': "h", 'Ħ': "h",
	'ŧ': "t", 'Ŧ': "t", 'ð': "d", 'Ð': "d",
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isLowerASCIIWords reports whether s is already normalised ASCII: lower
// letters and digits in words joined by single spaces.
func isLowerASCIIWords(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == ' ' && s[i-1] != ' ':
		default:
			return false
		}
	}
	return true
}

// maxTokenRunes is the longest word indexed. MariaDB's
// innodb_ft_max_token_size is 84 by default: longer words are cut to it in
// search_text and in queries, so that every engine sees the same words.
const maxTokenRunes = 84

// searchDocument builds the normalised search columns of a product:
// search_title (the titles) ranks results, search_text (titles,
// descriptions, materials, techniques) is what is searched. Both carry a
// space at each end so that "a word starting with t" is LIKE '% t%'.
func searchDocument(title, description Localized, materials, techniques []string) (searchTitle, searchText string) {
	var titles, all []string
	for _, l := range Languages {
		if t := title[l]; t != "" {
			titles = append(titles, t)
		}
	}
	all = append(all, titles...)
	for _, l := range Languages {
		if d := description[l]; d != "" {
			all = append(all, d)
		}
	}
	all = append(all, materials...)
	all = append(all, techniques...)
	return wrapWords(NormalizeText(strings.Join(titles, " "))), wrapWords(NormalizeText(strings.Join(all, " ")))
}

// wrapWords cuts over-long words to maxTokenRunes and puts a space at each
// end of normalised text.
func wrapWords(normalized string) string {
	var b strings.Builder
	b.Grow(len(normalized) + 2)
	b.WriteByte(' ')
	for _, w := range strings.Fields(normalized) {
		b.WriteString(cutWord(w))
		b.WriteByte(' ')
	}
	return b.String()
}

func cutWord(w string) string {
	if utf8.RuneCountInString(w) <= maxTokenRunes {
		return w
	}
	i, n := 0, 0
	for i = range w {
		if n == maxTokenRunes {
			break
		}
		n++
	}
	return w[:i]
}

// ftMinTokenRunes is MariaDB's innodb_ft_min_token_size (3 by default):
// shorter words are not in the FULLTEXT index.
const ftMinTokenRunes = 3

// innodbStopwords is InnoDB's default stopword list
// (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD). Stopwords are not
// indexed, and a required stopword (+the*) makes a boolean query match
// nothing; a test checks the server still uses this list.
var innodbStopwords = []string{
	"a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from", "how", "i", "in", "is", "it",
	"la", "of", "on", "or", "that", "the", "this", "to", "was", "what", "when", "where", "who", "will", "with", "und", "www",
}

// needsLike reports whether a query word must be matched with LIKE rather
// than through the full-text index: it is shorter than the index's minimum,
// or it is the start of a stopword (so the index may lack words it should
// find). Both engines take the same path, so they find the same products.
func needsLike(term string) bool {
	if utf8.RuneCountInString(term) < ftMinTokenRunes {
		return true
	}
	for _, w := range innodbStopwords {
		if strings.HasPrefix(w, term) {
			return true
		}
	}
	return false
}

// maxQueryWords bounds the words of a search.
const maxQueryWords = 10

// searchTerms are the words of a query, normalised, cut to the longest
// indexed word, without repeats, split by how each is matched. Every word
// must match, as the start of a word of the product's text.
type searchTerms struct {
	all  []string // every word, in query order
	fts  []string // matched through the full-text index
	like []string // matched with LIKE '% word%'
}

func parseQuery(q string) searchTerms {
	var t searchTerms
	seen := map[string]bool{}
	for _, w := range strings.Fields(NormalizeText(q)) {
		w = cutWord(w)
		if seen[w] {
			continue
		}
		seen[w] = true
		t.all = append(t.all, w)
		if needsLike(w) {
			t.like = append(t.like, w)
		} else {
			t.fts = append(t.fts, w)
		}
	}
	return t
}

// slugMaxLength bounds generated slugs (the column holds 100; suffixes
// need room).
const slugMaxLength = 80

// slugify makes a URL slug from a title: NormalizeText, then Arabic and
// Tifinagh letters written in Latin the way Moroccan names usually are
// (ش → ch, و → ou, ⵖ → gh); other letters are dropped, words are joined by
// dashes. It returns "" when nothing is left.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	// A final ta marbuta is heard as "a"; NormalizeText would fold it to ه.
	for _, r := range NormalizeText(strings.ReplaceAll(s, "ة", "ا")) {
		var part string
		switch {
		case r == ' ':
			dash = true
			continue
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			part = string(r)
		default:
			part = transliteration[r]
		}
		if part == "" {
			continue
		}
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteString(part)
	}
	out := b.String()
	if len(out) > slugMaxLength {
		out = out[:slugMaxLength]
		if i := strings.LastIndexByte(out, '-'); i > slugMaxLength/2 {
			out = out[:i]
		}
		out = strings.Trim(out, "-")
	}
	return out
}

// transliteration writes Arabic (as folded by NormalizeText) and Tifinagh
// letters in Latin.
var transliteration = map[rune]string{
	'ا': "a", 'ء': "", 'ب': "b", 'ت': "t", 'ث': "t", 'ج': "j", 'ح': "h", 'خ': "kh", 'د': "d", 'ذ': "d",
	'ر': "r", 'ز': "z", 'س': "s", 'ش': "ch", 'ص': "s", 'ض': "d", 'ط': "t", 'ظ': "z",
	'ع': "a", 'غ': "gh", 'ف': "f", 'ق': "k", 'ك': "k", 'ل': "l", 'م': "m", 'ن': "n",
	'ه': "h", 'و': "ou", 'ي': "i", 'ڭ': "g", 'ݣ': "g", 'گ': "g", 'ڤ': "v", 'پ': "p", 'چ': "tch",
	'ⴰ': "a", 'ⴱ': "b", 'ⴳ': "g", 'ⴷ': "d", 'ⴹ': "d", 'ⴻ': "e", 'ⴼ': "f", 'ⴽ': "k",
	'ⵀ': "h", 'ⵃ': "h", 'ⵄ': "a", 'ⵅ': "kh", 'ⵇ': "q", 'ⵉ': "i", 'ⵊ': "j", 'ⵍ': "l",
	'ⵎ': "m", 'ⵏ': "n", 'ⵓ': "ou", 'ⵔ': "r", 'ⵕ': "r", 'ⵖ': "gh", 'ⵙ': "s", 'ⵚ': "s",
	'ⵛ': "ch", 'ⵜ': "t", 'ⵟ': "t", 'ⵡ': "w", 'ⵢ': "y", 'ⵣ': "z", 'ⵥ': "z", 'ⵯ': "w",
}
