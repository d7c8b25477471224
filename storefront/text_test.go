package storefront

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"French accents and case", "Poterie ÉMAILLÉE", "poterie emaillee"},
		{"typed without accents", "poterie emaillee", "poterie emaillee"},
		{"cedilla, ligatures, apostrophe", "Façonné à la main, l'œuvre d'Aït-Ahmed", "faconne a la main l oeuvre d ait ahmed"},
		{"sharp s and other letters without decomposition", "Straße Ørsted Łódź", "strasse orsted lodz"},
		{"compatibility forms", "ﬁne ２０２６ Ⅳ", "fine 2026 iv"},
		{"harakat dropped", "الفَخَّارُ المُزَجَّجُ", "الفخار المزجج"},
		{"tanwin and sukun", "طَاجِينٌ مُزْخْرَفٌ", "طاجين مزخرف"},
		{"tatweel joins", "الفـــخار", "الفخار"},
		{"alef with hamza above", "أواني", "اواني"},
		{"alef with hamza below", "إبريق", "ابريق"},
		{"alef with madda", "آنية", "انيه"},
		{"alef wasla", "ٱلفخار", "الفخار"},
		{"alef maqsura", "مستوى", "مستوي"},
		{"ta marbuta", "جرة فخارية", "جره فخاريه"},
		{"hamza on waw and ya", "مؤسسة شاطئ", "موسسه شاطي"},
		{"lam-alef ligature", "ﻻ", "لا"},
		{"Arabic-Indic digits", "٢٠٢٦ ۱۲", "2026 12"},
		{"Persian letters", "کاشی ی", "كاشي ي"},
		{"Arabic punctuation separates", "فخار، زليج؛ خشب؟", "فخار زليج خشب"},
		{"invisible marks do not split", "فخ\u200cار soft\u00adhyphen", "فخار softhyphen"},
		{"Tifinagh kept", "ⵜⴰⵎⴰⵣⵉⵖⵜ", "ⵜⴰⵎⴰⵣⵉⵖⵜ"},
		{"spaces collapse", "  a\t\nb  ", "a b"},
		{"symbols and emoji separate", "tajine🏺(30cm)", "tajine 30cm"},
		{"empty", "", ""},
		{"nothing but punctuation", "!!! ... ---", ""},
		{"already normal ASCII", "tapis 2 m", "tapis 2 m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NormalizeText(tt.in)
			if got != tt.want {
				t.Fatalf("NormalizeText(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := NormalizeText(got); again != got {
				t.Fatalf("not idempotent: %q → %q", got, again)
			}
		})
	}
}

// The spellings a buyer types must meet the cooperative's spelling.
func TestNormalizeTextSameForArabicVariants(t *testing.T) {
	groups := [][]string{
		{"الفخار", "الفَخَّار", "ٱلفخار", "الفـخـار", "الْفَخَّارُ"},
		{"إناء", "اناء", "أناء", "آناء"},
		{"فخارية", "فخاريه"},
		{"مستوى", "مستوي"},
	}
	for _, g := range groups {
		want := NormalizeText(g[0])
		for _, s := range g[1:] {
			if got := NormalizeText(s); got != want {
				t.Errorf("NormalizeText(%q) = %q, want %q (as for %q)", s, got, want, g[0])
			}
		}
	}
}

func checkNormalized(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("NormalizeText(%q) = %q: not UTF-8", in, out)
	}
	if strings.HasPrefix(out, " ") || strings.HasSuffix(out, " ") || strings.Contains(out, "  ") {
		t.Fatalf("NormalizeText(%q) = %q: stray spaces", in, out)
	}
	for _, r := range out {
		switch {
		case r == ' ':
		case r > 0xFFFF:
			t.Fatalf("NormalizeText(%q) = %q: holds %U beyond the BMP", in, out, r)
		case !(unicode.IsLetter(r) || unicode.Is(unicode.Nd, r)) || unicode.Is(unicode.Lm, r):
			t.Fatalf("NormalizeText(%q) = %q: holds %U, not a letter or digit", in, out, r)
		case strings.ContainsRune("أإآٱىةـ", r):
			t.Fatalf("NormalizeText(%q) = %q: holds unfolded %q", in, out, r)
		case unicode.IsUpper(r) && unicode.ToLower(r) != r:
			t.Fatalf("NormalizeText(%q) = %q: holds upper-case %q", in, out, r)
		}
	}
	if again := NormalizeText(out); again != out {
		t.Fatalf("NormalizeText is not idempotent on %q: %q then %q", in, out, again)
	}
}

func FuzzNormalizeText(f *testing.F) {
	for _, s := range []string{
		"Poterie émaillée d'Anzi", "الفَخَّارُ المُزَجَّجُ", "أإآٱ ى ة ـ", "ⵜⴰⵎⴰⵣⵉⵖⵜ", "ǅungla İstanbul ẞ", "ﻻ ﷲ ﬁ",
		"٠١٢٣٤٥٦٧٨٩ ۰۱۲", "a\u0301\u0308b", "\xff\xfe bad utf8", "x" + strings.Repeat("\u064e", 50), "𝔸𝕓𝕔 𐐀",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkNormalized(t, s, NormalizeText(s))
	})
}

func BenchmarkNormalizeText(b *testing.B) {
	inputs := map[string]string{
		"ascii":  "Tajine en terre cuite, peint a la main par les potieres de Tighmi",
		"french": "Poterie émaillée façonnée à la main par les potières d'Aït Ahmed — pièce unique",
		"arabic": "طَاجِينٌ مِنَ الفَخَّارِ المُزَجَّجِ، صُنِعَ يَدَوِيّاً فِي تِيغْمِي بِإِقْلِيمِ تِزْنِيت",
	}
	for name, s := range inputs {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				_ = NormalizeText(s)
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	got := parseQuery("Poterie de Tighmi, فن الفَخّار the with with")
	want := searchTerms{
		all:  []string{"poterie", "de", "tighmi", "فن", "الفخار", "the", "with"},
		fts:  []string{"poterie", "tighmi", "الفخار"},
		like: []string{"de", "فن", "the", "with"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(searchTerms{})); diff != "" {
		t.Fatalf("parseQuery (-want +got):\n%s", diff)
	}
	// Prefixes of stopwords go through LIKE too: the index lacks "when".
	for _, w := range []string{"whe", "abou", "fro", "wit"} {
		if !needsLike(w) {
			t.Errorf("needsLike(%q) = false: the index does not hold the stopwords it starts", w)
		}
	}
	long := strings.Repeat("ب", 100)
	if got := parseQuery(long).all[0]; utf8.RuneCountInString(got) != maxTokenRunes {
		t.Errorf("a %d-letter word is searched as %d letters, want %d", 100, utf8.RuneCountInString(got), maxTokenRunes)
	}
}

func TestSearchDocument(t *testing.T) {
	title, text := searchDocument(Localized{"fr": "Tajine émaillé", "ar": "طاجين"}, Localized{"en": "Glazed clay"},
		[]string{"Argile"}, []string{"Tournage"})
	if title != " طاجين tajine emaille " {
		t.Errorf("search_title = %q", title)
	}
	if text != " طاجين tajine emaille glazed clay argile tournage " {
		t.Errorf("search_text = %q", text)
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Tajine émaillé de Tighmi", "tajine-emaille-de-tighmi"},
		{"Plat « Aït Ahmed » 30 cm", "plat-ait-ahmed-30-cm"},
		{"طاجين فخار", "tajin-fkhar"},
		{"جرة", "jra"},
		{"ⵜⴰⵣⵔⵣⵉⵜ", "tazrzit"},
		{"陶器", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := slugify(tt.in); got != tt.want {
			t.Errorf("slugify(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := slugify(strings.Repeat("tapis ", 40)); len(got) > slugMaxLength || strings.HasSuffix(got, "-") {
		t.Errorf("long slug %q", got)
	}
}
