package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/image/draw"

	"github.com/souk-tiznit/souk/errs"
)

// Test images are made in code. Colours used to find corners after
// rotation:
var (
	red   = color.RGBA{220, 30, 30, 255}
	green = color.RGBA{30, 200, 60, 255}
	blue  = color.RGBA{30, 60, 220, 255}
)

// quadrants paints a w×h picture blue with a red block in its bottom-left
// quarter and a green one in its top-left quarter.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := blue
			switch {
			case x < w/4 && y >= h*3/4:
				c = red
			case x < w/4 && y < h/4:
				c = green
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// noisy is a picture with detail, so that its JPEG has a realistic size.
func noisy(w, h int, seed int64) *image.RGBA {
	rng := rand.New(rand.NewSource(seed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i] = uint8(x*255/w) ^ uint8(rng.Intn(48))
			img.Pix[i+1] = uint8(y*255/h) ^ uint8(rng.Intn(48))
			img.Pix[i+2] = uint8((x+y)*127/(w+h)) ^ uint8(rng.Intn(48))
			img.Pix[i+3] = 255
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// byteOrder is binary.BigEndian or binary.LittleEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// gpsMarker is a string planted in the GPS IFD of test photos; it must not
// survive into any variant.
const gpsMarker = "GPS-TIZNIT-29.6974N-9.7316W"

// exifTIFF builds the TIFF body of an EXIF segment: IFD0 with an
// orientation tag and, when withGPS, a pointer to a GPS IFD holding a
// latitude reference, a latitude and a processing method carrying
// gpsMarker — what a phone writes into a photo taken in Tiznit.
func exifTIFF(order byteOrder, orientation uint16, withGPS bool) []byte {
	var b []byte
	u16 := func(v uint16) { b = order.AppendUint16(b, v) }
	u32 := func(v uint32) { b = order.AppendUint32(b, v) }
	if order == binary.LittleEndian {
		b = append(b, 'I', 'I')
	} else {
		b = append(b, 'M', 'M')
	}
	u16(42)
	u32(8)
	n := uint16(1)
	if withGPS {
		n = 2
	}
	gpsIFD := uint32(8 + 2 + int(n)*12 + 4)
	u16(n)
	u16(0x0112) // Orientation
	u16(3)      // SHORT
	u32(1)
	u16(orientation)
	u16(0)
	if withGPS {
		u16(0x8825) // GPSInfo IFD pointer
		u16(4)      // LONG
		u32(1)
		u32(gpsIFD)
	}
	u32(0) // no next IFD
	if !withGPS {
		return b
	}
	const gpsEntries = 3
	data := gpsIFD + 2 + gpsEntries*12 + 4
	method := "ASCII\x00\x00\x00" + gpsMarker
	u16(gpsEntries)
	u16(0x0001) // GPSLatitudeRef
	u16(2)      // ASCII
	u32(2)
	b = append(b, 'N', 0, 0, 0)
	u16(0x0002) // GPSLatitude
	u16(5)      // RATIONAL
	u32(3)
	u32(data)
	u16(0x001B) // GPSProcessingMethod
	u16(7)      // UNDEFINED
	u32(uint32(len(method)))
	u32(data + 24)
	u32(0)
	for _, r := range [][2]uint32{{29, 1}, {41, 1}, {5064, 100}} {
		u32(r[0])
		u32(r[1])
	}
	b = append(b, method...)
	return b
}

// withEXIF inserts an APP1 Exif segment holding tiff right after the SOI
// marker of a JPEG.
func withEXIF(jpg, tiff []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// testLimits keeps each test's photo work off the process-wide limiter.
func testLimits() PhotoLimits {
	return PhotoLimits{MaxBytes: DefaultMaxPhotoBytes, MaxPixels: DefaultMaxPhotoPixels, Limiter: NewLimiter(4, 1<<30, time.Second)}
}

func process(t *testing.T, data []byte) *Photo {
	t.Helper()
	p, err := ProcessPhoto(context.Background(), bytes.NewReader(data), testLimits())
	if err != nil {
		t.Fatalf("ProcessPhoto: %v", err)
	}
	return p
}

func decodeVariant(t *testing.T, v PhotoVariant) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(v.Data))
	if err != nil {
		t.Fatalf("variant %s does not decode: %v", v.Key, err)
	}
	if b := img.Bounds(); b.Dx() != v.Width || b.Dy() != v.Height {
		t.Fatalf("variant %s is %v, says %dx%d", v.Key, b, v.Width, v.Height)
	}
	return img
}

func near(c color.Color, want color.RGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { x := int(a>>8) - int(w); return x <= tol && x >= -tol }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

// jpegSegments lists the markers of a JPEG up to its first scan.
func jpegSegments(t *testing.T, b []byte) []byte {
	t.Helper()
	var markers []byte
	pos := 2
	for pos+4 <= len(b) {
		if b[pos] != 0xFF {
			t.Fatalf("no marker at %d", pos)
		}
		m := b[pos+1]
		markers = append(markers, m)
		if m == 0xDA {
			break
		}
		pos += 2 + int(binary.BigEndian.Uint16(b[pos+2:]))
	}
	return markers
}

// Rule 7: orientation is applied and EXIF (GPS above all) is gone before
// anything is public.
func TestProcessPhoto_UprightWithoutEXIF(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		order     byteOrder
		w, h      int      // as stored: sideways
		wantSizes []string // as displayed
	}{
		// A phone held upright writes a landscape picture with
		// orientation 6: 680×660 stored is a 660×680 portrait.
		{binary.BigEndian, 680, 660, []string{"320x330", "640x659"}},
		{binary.LittleEndian, 480, 360, []string{"320x427"}},
	} {
		t.Run(fmt.Sprint(tc.order), func(t *testing.T) {
			t.Parallel()
			src := withEXIF(encodeJPEG(t, quadrants(tc.w, tc.h)), exifTIFF(tc.order, 6, true))
			if !bytes.Contains(src, []byte(gpsMarker)) || jpegOrientation(src) != 6 {
				t.Fatal("the test photo lacks its EXIF")
			}
			p := process(t, src)
			if p.Format != "jpeg" || p.Width != tc.h || p.Height != tc.w || p.Orientation != 6 {
				t.Errorf("photo is %s %dx%d orientation %d; want jpeg %dx%d orientation 6", p.Format, p.Width, p.Height, p.Orientation, tc.h, tc.w)
			}
			var sizes []string
			for _, v := range p.Variants {
				sizes = append(sizes, fmt.Sprintf("%dx%d", v.Width, v.Height))
				img := decodeVariant(t, v)
				w, h := v.Width, v.Height
				// Upright: the stored bottom-left (red) is now top-left,
				// the stored top-left (green) is now top-right.
				for _, c := range []struct {
					name string
					x, y int
					want color.RGBA
				}{
					{"top-left", w / 8, h / 8, red},
					{"top-right", w - 1 - w/8, h / 8, green},
					{"bottom-left", w / 8, h - 1 - h/8, blue},
					{"bottom-right", w - 1 - w/8, h - 1 - h/8, blue},
				} {
					if got := img.At(c.x, c.y); !near(got, c.want, 40) {
						t.Errorf("variant %dx%d %s is %v, want about %v", w, h, c.name, got, c.want)
					}
				}
				for _, leak := range []string{"Exif", gpsMarker, "TIZNIT", "MM\x00\x2a", "II\x2a\x00"} {
					if bytes.Contains(v.Data, []byte(leak)) {
						t.Errorf("variant %dx%d still contains %q", w, h, leak)
					}
				}
				for _, m := range jpegSegments(t, v.Data) {
					if (m >= 0xE0 && m <= 0xEF) || m == 0xFE {
						t.Errorf("variant %dx%d has an APP%d/COM segment (0x%02X)", w, h, m-0xE0, m)
					}
				}
			}
			if diff := cmp.Diff(tc.wantSizes, sizes); diff != "" {
				t.Errorf("variant sizes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProcessPhoto_Variants(t *testing.T) {
	t.Parallel()
	src := encodeJPEG(t, noisy(1300, 260, 1)) // wide and short: three variants, cheap to resize
	p := process(t, src)
	keyRE := regexp.MustCompile(`^public/photos/([0-9a-f]{2})/([0-9a-f]{64})-(\d+)\.jpg$`)
	var widths []int
	for _, v := range p.Variants {
		widths = append(widths, v.Width)
		m := keyRE.FindStringSubmatch(v.Key)
		sum := sha256.Sum256(v.Data)
		if m == nil || m[2] != hex.EncodeToString(sum[:]) || m[1] != m[2][:2] || m[3] != fmt.Sprint(v.Width) {
			t.Errorf("key %q does not name the variant (sha256 %x, width %d)", v.Key, sum, v.Width)
		}
		decodeVariant(t, v)
	}
	if diff := cmp.Diff([]int{320, 640, 1280}, widths); diff != "" {
		t.Errorf("widths (-want +got):\n%s", diff)
	}
	if !regexp.MustCompile(`^#[0-9a-f]{6}$`).MatchString(p.Color) {
		t.Errorf("Color = %q, want #rrggbb", p.Color)
	}
	if n := len(p.BlurHash); n != 28 { // 4×3 components
		t.Errorf("BlurHash %q has %d characters, want 28", p.BlurHash, n)
	}
	// Content-addressed: the same upload gives the same keys.
	again := process(t, src)
	if diff := cmp.Diff(p.Keys(), again.Keys()); diff != "" {
		t.Errorf("processing twice gave different keys (-first +second):\n%s", diff)
	}

	s := newTestLocal(t)
	if err := p.Save(context.Background(), s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	for _, v := range p.Variants {
		obj, err := s.Stat(context.Background(), v.Key)
		if err != nil || obj.ContentType != PhotoContentType || obj.CacheControl != PhotoCacheControl || obj.Size != int64(len(v.Data)) {
			t.Errorf("saved %s: %+v, %v", v.Key, obj, err)
		}
	}
}

func TestVariantSizes(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		want []image.Point
	}{
		{4000, 3000, []image.Point{{320, 240}, {640, 480}, {1280, 960}, {2048, 1536}}},
		{3000, 4000, []image.Point{{320, 427}, {640, 853}, {1280, 1707}, {2048, 2731}}},
		{2048, 1024, []image.Point{{320, 160}, {640, 320}, {1280, 640}}},
		{2049, 1000, []image.Point{{320, 156}, {640, 312}, {1280, 625}, {2048, 1000}}},
		{1000, 1000, []image.Point{{320, 320}, {640, 640}}},
		{320, 200, []image.Point{{320, 200}}},
		{100, 50, []image.Point{{100, 50}}},
		{1, 1, []image.Point{{1, 1}}},
		{40000, 1, []image.Point{{320, 1}, {640, 1}, {1280, 1}, {2048, 1}}},
		{200, 100000, []image.Point{{131, 65535}}}, // JPEG's limit caps the height
	} {
		if diff := cmp.Diff(tc.want, variantSizes(tc.w, tc.h)); diff != "" {
			t.Errorf("variantSizes(%d, %d) (-want +got):\n%s", tc.w, tc.h, diff)
		}
	}
}

func TestProcessPhoto_PNGTransparencyOnWhite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 60, 40))
	for y := 10; y < 30; y++ {
		for x := 20; x < 40; x++ {
			img.SetNRGBA(x, y, color.NRGBA{220, 30, 30, 255})
		}
	}
	p := process(t, encodePNG(t, img))
	if p.Format != "png" || len(p.Variants) != 1 || p.Variants[0].Width != 60 || p.Variants[0].Height != 40 {
		t.Fatalf("got %s with variants %v; want one png variant of 60x40", p.Format, p.Keys())
	}
	out := decodeVariant(t, p.Variants[0])
	if got := out.At(2, 2); !near(got, color.RGBA{255, 255, 255, 255}, 8) {
		t.Errorf("a transparent corner came out %v, want white", got)
	}
	if got := out.At(30, 20); !near(got, red, 30) {
		t.Errorf("the opaque centre came out %v, want red", got)
	}
	if p.Color != "#ffffff" {
		t.Errorf("Color = %s, want #ffffff (most of the picture is white)", p.Color)
	}
}

func TestProcessPhoto_WebP(t *testing.T) {
	for _, tc := range []struct {
		file string
		w, h int
	}{
		{"testdata/lossy.webp", 150, 100},
		{"testdata/alpha-lossless.webp", 75, 100},
	} {
		data, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		p := process(t, data)
		if p.Format != "webp" || p.Width != tc.w || p.Height != tc.h || len(p.Variants) != 1 {
			t.Errorf("%s: %s %dx%d with %d variants; want webp %dx%d with 1", tc.file, p.Format, p.Width, p.Height, len(p.Variants), tc.w, tc.h)
			continue
		}
		decodeVariant(t, p.Variants[0])
	}
}

func TestProcessPhoto_DominantColor(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 400; x++ {
			c := color.RGBA{0, 51, 153, 255} // a Tiznit-blue pot …
			if x >= 300 {
				c = color.RGBA{250, 250, 250, 255} // … against a white wall
			}
			img.SetRGBA(x, y, c)
		}
	}
	p := process(t, encodePNG(t, img))
	var r, g, b int
	if _, err := fmt.Sscanf(p.Color, "#%02x%02x%02x", &r, &g, &b); err != nil {
		t.Fatalf("Color %q: %v", p.Color, err)
	}
	if abs(r-0) > 6 || abs(g-51) > 6 || abs(b-153) > 6 {
		t.Errorf("Color = %s, want about #003399", p.Color)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// pngHeader is the start of a PNG whose IHDR declares w×h: enough for
// DecodeConfig, nothing to decode.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

// corruptPNG is a PNG whose image data has been scribbled over.
func corruptPNG(t *testing.T) []byte {
	b := encodePNG(t, noisy(64, 64, 4))
	i := bytes.Index(b, []byte("IDAT"))
	for j := i + 40; j < i+80; j++ {
		b[j] ^= 0x5A
	}
	return b
}

// countingSource yields a JPEG start then zeros, and counts what was read.
type countingSource struct {
	r io.Reader
	n int64
}

func (c *countingSource) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestProcessPhoto_Refusals(t *testing.T) {
	good := encodeJPEG(t, noisy(300, 200, 2))
	// A limiter with no room at all: a refusal that reaches it would come
	// back Unavailable, so the codes below also prove the refusal happens
	// before any decoding.
	busy := NewLimiter(1, 1, 0)
	release, err := busy.Acquire(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	limits := PhotoLimits{MaxBytes: DefaultMaxPhotoBytes, MaxPixels: DefaultMaxPhotoPixels, Limiter: busy}

	for _, tc := range []struct {
		name    string
		data    []byte
		want    errs.Code
		message string
	}{
		{"ErrPDF", []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"), errs.UnsupportedMedia, "PDF"},
		{"ErrHTMLNamedJPG", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"), errs.UnsupportedMedia, "HTML"},
		{"ErrGIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), errs.UnsupportedMedia, "GIF"},
		{"ErrHEIC", append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), make([]byte, 64)...), errs.UnsupportedMedia, "HEIC"},
		{"ErrSVG", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`), errs.UnsupportedMedia, "XML"},
		{"ErrEmpty", nil, errs.Invalid, "empty"},
		{"ErrJPEGHeaderOnly", good[:3], errs.Invalid, "damaged or truncated"},
		{"Err60MegapixelPNG", pngHeader(8000, 7500), errs.TooLarge, "8000×7500 pixels (60.0 megapixels); the limit is 40 megapixels"},
		{"ErrZeroSizePNG", pngHeader(0, 10), errs.Invalid, ""},
		{"ErrArithmeticJPEG", bytes.Replace(good, []byte{0xFF, 0xC0}, []byte{0xFF, 0xC9}, 1), errs.UnsupportedMedia, "JPEG uses a feature that is not supported"},
		{"ErrAnimatedWebP", []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00"), errs.UnsupportedMedia, "animated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ProcessPhoto(context.Background(), bytes.NewReader(tc.data), limits)
			wantCode(t, err, tc.want)
			if e := errs.As(err); e != nil && !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
		})
	}

	// Damage past the header shows only when decoding, with room to decode.
	for name, data := range map[string][]byte{
		"ErrTruncatedJPEG": good[:len(good)/2],
		"ErrCorruptPNG":    corruptPNG(t),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ProcessPhoto(context.Background(), bytes.NewReader(data), testLimits())
			wantCode(t, err, errs.Invalid)
			if e := errs.As(err); e != nil && e.Message != "the image is damaged or truncated" {
				t.Errorf("message %q", e.Message)
			}
		})
	}

	t.Run("Err20MB", func(t *testing.T) {
		src := &countingSource{r: io.MultiReader(bytes.NewReader(good[:200]), io.LimitReader(zeros{}, 20<<20))}
		_, err := ProcessPhoto(context.Background(), src, limits)
		wantCode(t, err, errs.TooLarge)
		if src.n > DefaultMaxPhotoBytes+1 {
			t.Errorf("read %d bytes of a 20 MB upload; want at most the limit plus one", src.n)
		}
	})

	t.Run("ErrBusy", func(t *testing.T) {
		_, err := ProcessPhoto(context.Background(), bytes.NewReader(good), limits)
		if e := errs.As(err); e == nil || e.Code != errs.Unavailable || e.RetryAfter <= 0 {
			t.Errorf("ProcessPhoto with a saturated limiter: %v; want Unavailable with RetryAfter", err)
		}
	})

	t.Run("ErrOverCustomLimits", func(t *testing.T) {
		_, err := ProcessPhoto(context.Background(), bytes.NewReader(good), PhotoLimits{MaxPixels: 300*200 - 1, Limiter: busy})
		wantCode(t, err, errs.TooLarge)
		_, err = ProcessPhoto(context.Background(), bytes.NewReader(good), PhotoLimits{MaxBytes: int64(len(good) - 1), Limiter: busy})
		wantCode(t, err, errs.TooLarge)
	})
}

// TestOrient checks all eight EXIF orientations against their definitions
// as sequences of mirrors and quarter turns.
func TestOrient(t *testing.T) {
	// A 3×2 picture with every pixel different.
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	rot90 := func(img *image.RGBA) *image.RGBA { // a quarter turn clockwise
		b := img.Bounds()
		out := image.NewRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				out.Set(b.Dy()-1-y, x, img.At(x, y)) // the left column becomes the top row
			}
		}
		return out
	}
	mirror := func(img *image.RGBA) *image.RGBA {
		b := img.Bounds()
		out := image.NewRGBA(b)
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				out.Set(b.Dx()-1-x, y, img.At(x, y))
			}
		}
		return out
	}
	want := map[int]*image.RGBA{
		1: src,
		2: mirror(src),
		3: rot90(rot90(src)),
		4: mirror(rot90(rot90(src))), // a vertical flip
		5: rot90(rot90(rot90(mirror(src)))),
		6: rot90(src),
		7: rot90(mirror(src)),
		8: rot90(rot90(rot90(src))),
	}
	for o := 1; o <= 8; o++ {
		got := orient(src, o)
		if diff := cmp.Diff(want[o].Pix, got.Pix); diff != "" || got.Bounds() != want[o].Bounds() {
			t.Errorf("orientation %d: bounds %v, want %v; pixels (-want +got):\n%s", o, got.Bounds(), want[o].Bounds(), diff)
		}
	}
}

func TestLimiter(t *testing.T) {
	ctx := context.Background()

	t.Run("ErrSaturatedSlots", func(t *testing.T) {
		l := NewLimiter(1, 1000, 50*time.Millisecond)
		release, err := l.Acquire(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = l.Acquire(ctx, 10)
		if e := errs.As(err); e == nil || e.Code != errs.Unavailable || e.RetryAfter != LimiterRetryAfter {
			t.Errorf("Acquire on a full limiter: %v; want Unavailable with RetryAfter %v", err, LimiterRetryAfter)
		}
		if d := time.Since(start); d < 40*time.Millisecond || d > 2*time.Second {
			t.Errorf("the refusal came after %v; want about the 50ms wait", d)
		}
		release()
		release() // a second call is harmless
		r2, err := l.Acquire(ctx, 10)
		if err != nil {
			t.Fatalf("Acquire after release: %v", err)
		}
		r2()
	})

	t.Run("ErrSaturatedMemory", func(t *testing.T) {
		l := NewLimiter(4, 100, 20*time.Millisecond)
		r1, err := l.Acquire(ctx, 80)
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Acquire(ctx, 30)
		wantCode(t, err, errs.Unavailable)
		r2, err := l.Acquire(ctx, 20)
		if err != nil {
			t.Errorf("Acquire within the budget: %v", err)
		} else {
			r2()
		}
		r1()
		// A job above the whole budget runs alone rather than never.
		r3, err := l.Acquire(ctx, 1000)
		if err != nil {
			t.Fatalf("Acquire above the budget on an idle limiter: %v", err)
		}
		_, err = l.Acquire(ctx, 1)
		wantCode(t, err, errs.Unavailable)
		r3()
	})

	t.Run("WaitsForRoom", func(t *testing.T) {
		l := NewLimiter(1, 100, 2*time.Second)
		r1, err := l.Acquire(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(30*time.Millisecond, r1)
		r2, err := l.Acquire(ctx, 100)
		if err != nil {
			t.Fatalf("Acquire did not wait for the room freed meanwhile: %v", err)
		}
		r2()
	})

	t.Run("CancelledContext", func(t *testing.T) {
		l := NewLimiter(1, 100, time.Second)
		r1, _ := l.Acquire(ctx, 1)
		defer r1()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := l.Acquire(cctx, 1)
		if err == nil || errs.Is(err, errs.Unavailable) {
			t.Errorf("Acquire with a cancelled context: %v; want the context's error, not Unavailable", err)
		}
	})

	t.Run("Defaults", func(t *testing.T) {
		first, again := DefaultLimiter(), DefaultLimiter()
		if first != again {
			t.Error("DefaultLimiter is not one per process")
		}
	})
}

// BenchmarkResample12MP compares the candidate resamplers on the work
// ProcessPhoto does for a 12 MP JPEG: 4000×3000 down to 2048, 1280, 640
// and 320 wide, each from the previous one.
func BenchmarkResample12MP(b *testing.B) {
	src, err := jpeg.Decode(bytes.NewReader(encodeJPEG(b, noisy(4000, 3000, 3))))
	if err != nil {
		b.Fatal(err)
	}
	sizes := variantSizes(4000, 3000)
	for _, tc := range []struct {
		name string
		q    draw.Interpolator
	}{
		{"CatmullRom", draw.CatmullRom},
		{"BiLinear", draw.BiLinear},
		{"ApproxBiLinear", draw.ApproxBiLinear},
	} {
		b.Run(tc.name, func(b *testing.B) {
			defer func(q draw.Interpolator) { resampler = q }(resampler)
			resampler = tc.q
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := renderVariants(context.Background(), src, 1, sizes); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProcessPhoto12MP measures the whole pipeline on a 12 MP JPEG
// (4000×3000, as a phone takes it): decode, four variants, placeholder,
// encode.
func BenchmarkProcessPhoto12MP(b *testing.B) {
	src := encodeJPEG(b, noisy(4000, 3000, 3))
	limits := PhotoLimits{Limiter: NewLimiter(0, 0, time.Minute)}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := ProcessPhoto(context.Background(), bytes.NewReader(src), limits)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Variants) != 4 {
			b.Fatalf("%d variants, want 4", len(p.Variants))
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "photos/s")
}

// FuzzProcessPhoto feeds the pipeline arbitrary bytes: it must answer
// with a variant or a client error (never a panic, never an internal
// error), within small limits that keep each run quick.
func FuzzProcessPhoto(f *testing.F) {
	small := quadrants(40, 30)
	jpg := encodeJPEG(f, small)
	f.Add(jpg)
	f.Add(withEXIF(jpg, exifTIFF(binary.BigEndian, 6, true)))
	f.Add(withEXIF(jpg, exifTIFF(binary.LittleEndian, 8, false)))
	f.Add(encodePNG(f, small))
	f.Add(jpg[:len(jpg)/2])
	f.Add(pngHeader(8000, 7500))
	f.Add([]byte("%PDF-1.4\n%%EOF"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	limiter := NewLimiter(0, 0, time.Minute)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ProcessPhoto(context.Background(), bytes.NewReader(data), PhotoLimits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, Limiter: limiter})
		if err != nil {
			switch code := errs.CodeOf(err); code {
			case errs.Invalid, errs.TooLarge, errs.UnsupportedMedia:
			default:
				t.Fatalf("ProcessPhoto answered %v (code %s); want a client error", err, code)
			}
			return
		}
		if len(p.Variants) == 0 || p.Width < 1 || p.Height < 1 {
			t.Fatalf("ProcessPhoto succeeded with %+v", p)
		}
		for _, v := range p.Variants {
			if _, err := jpeg.DecodeConfig(bytes.NewReader(v.Data)); err != nil {
				t.Fatalf("variant %s does not decode: %v", v.Key, err)
			}
		}
	})
}
