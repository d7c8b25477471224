package media

import (
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
)

func TestBlurHash_SolidBlack(t *testing.T) {
	// A uniform picture has no AC energy: every AC component encodes as
	// the middle value 9,9,9 ("fQ"), and the DC as its exact colour.
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	if got, want := blurHash(img, 4, 3), "L00000"+strings.Repeat("fQ", 11); got != want {
		t.Errorf("blurHash(black) = %q, want %q", got, want)
	}
}

// TestBlurHash_RoundTrip decodes the hash with an independent decoder
// written from the format's specification and compares it with the
// picture it came from.
func TestBlurHash_RoundTrip(t *testing.T) {
	const w, h = 32, 24
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// Red to blue from left to right, darker towards the bottom.
			f := float64(x) / (w - 1)
			d := 1 - 0.5*float64(y)/(h-1)
			img.SetRGBA(x, y, color.RGBA{uint8(220 * (1 - f) * d), uint8(40 * d), uint8(220 * f * d), 255})
		}
	}
	hash := blurHash(img, 4, 3)
	// Cross-checked against a separate port of the specification.
	if want := "LRBda%|m$9w],_$0sWo0sqn~jujs"; hash != want {
		t.Fatalf("blurHash(gradient) = %q, want %q", hash, want)
	}
	got := decodeBlurHash(t, hash, w, h)
	var worst, sum float64
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a, b := img.RGBAAt(x, y), got.RGBAAt(x, y)
			for _, d := range []float64{float64(a.R) - float64(b.R), float64(a.G) - float64(b.G), float64(a.B) - float64(b.B)} {
				worst = math.Max(worst, math.Abs(d))
				sum += math.Abs(d)
			}
		}
	}
	// Twelve coarsely quantised cosines rebuild a smooth gradient within
	// a few levels on average (8.8 here); the ramp's ends, where cosines
	// ring, are off more.
	if mean := sum / (3 * w * h); mean > 10 || worst > 60 {
		t.Errorf("decoded hash %q differs from the picture by %.1f levels on average and up to %.0f; want ≤ 10 and ≤ 60", hash, mean, worst)
	}
}

func decodeBlurHash(t *testing.T, hash string, w, h int) *image.RGBA {
	t.Helper()
	dec := func(s string) int {
		v := 0
		for _, c := range s {
			i := strings.IndexRune(base83Chars, c)
			if i < 0 {
				t.Fatalf("bad base-83 digit %q in %q", c, hash)
			}
			v = v*83 + i
		}
		return v
	}
	flag := dec(hash[:1])
	nx, ny := flag%9+1, flag/9+1
	if len(hash) != 4+2*nx*ny {
		t.Fatalf("hash %q: length %d, want %d", hash, len(hash), 4+2*nx*ny)
	}
	maxAC := float64(dec(hash[1:2])+1) / 166
	toLinear := func(v int) float64 {
		f := float64(v) / 255
		if f <= 0.04045 {
			return f / 12.92
		}
		return math.Pow((f+0.055)/1.055, 2.4)
	}
	colors := make([][3]float64, nx*ny)
	dc := dec(hash[2:6])
	colors[0] = [3]float64{toLinear(dc >> 16), toLinear(dc >> 8 & 255), toLinear(dc & 255)}
	for i := 1; i < nx*ny; i++ {
		v := dec(hash[4+2*i : 6+2*i])
		q := func(x int) float64 {
			f := float64(x-9) / 9
			return math.Copysign(f*f, f) * maxAC
		}
		colors[i] = [3]float64{q(v / 361), q(v / 19 % 19), q(v % 19)}
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var c [3]float64
			for j := 0; j < ny; j++ {
				for i := 0; i < nx; i++ {
					basis := math.Cos(math.Pi*float64(x*i)/float64(w)) * math.Cos(math.Pi*float64(y*j)/float64(h))
					for k := range c {
						c[k] += colors[j*nx+i][k] * basis
					}
				}
			}
			out.SetRGBA(x, y, color.RGBA{uint8(linearToSRGB(c[0])), uint8(linearToSRGB(c[1])), uint8(linearToSRGB(c[2])), 255})
		}
	}
	return out
}
