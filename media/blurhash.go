package media

import (
	"image"
	"math"
	"strings"
)

// This file encodes BlurHash placeholders (https://blurha.sh, format as in
// woltapp/blurhash's Algorithm.md): a few DCT components of the picture in
// linear light, the average colour exact in sRGB, the rest quantised, all
// in base 83 — 20 to 30 characters a browser can paint as a blur while the
// photo loads.

const base83Chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"

// srgbToLinearTable maps an 8-bit sRGB value to linear light.
var srgbToLinearTable = func() (t [256]float64) {
	for i := range t {
		v := float64(i) / 255
		if v <= 0.04045 {
			t[i] = v / 12.92
		} else {
			t[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return t
}()

func linearToSRGB(v float64) int {
	v = math.Max(0, math.Min(1, v))
	if v <= 0.0031308 {
		return int(v*12.92*255 + 0.5)
	}
	return int((1.055*math.Pow(v, 1/2.4)-0.055)*255 + 0.5)
}

func signPow(v, exp float64) float64 { return math.Copysign(math.Pow(math.Abs(v), exp), v) }

// blurHash encodes img (small: it is read nx*ny times) with nx by ny
// components, each between 1 and 9.
func blurHash(img *image.RGBA, nx, ny int) string {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 1 || h < 1 || nx < 1 || nx > 9 || ny < 1 || ny > 9 {
		return ""
	}
	cosX := make([]float64, nx*w)
	for i := 0; i < nx; i++ {
		for x := 0; x < w; x++ {
			cosX[i*w+x] = math.Cos(math.Pi * float64(i) * float64(x) / float64(w))
		}
	}
	cosY := make([]float64, ny*h)
	for j := 0; j < ny; j++ {
		for y := 0; y < h; y++ {
			cosY[j*h+y] = math.Cos(math.Pi * float64(j) * float64(y) / float64(h))
		}
	}

	factors := make([][3]float64, nx*ny)
	for y := 0; y < h; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < w; x++ {
			p := row[x*4 : x*4+3 : x*4+3]
			r, g, bl := srgbToLinearTable[p[0]], srgbToLinearTable[p[1]], srgbToLinearTable[p[2]]
			for j := 0; j < ny; j++ {
				cy := cosY[j*h+y]
				for i := 0; i < nx; i++ {
					basis := cosX[i*w+x] * cy
					f := &factors[j*nx+i]
					f[0] += basis * r
					f[1] += basis * g
					f[2] += basis * bl
				}
			}
		}
	}
	for k := range factors {
		norm := 2.0
		if k == 0 {
			norm = 1
		}
		scale := norm / float64(w*h)
		factors[k][0] *= scale
		factors[k][1] *= scale
		factors[k][2] *= scale
	}

	var sb strings.Builder
	sb.Grow(4 + 2*nx*ny)
	writeBase83(&sb, (nx-1)+(ny-1)*9, 1)

	maxValue := 1.0
	if len(factors) > 1 {
		actual := 0.0
		for _, f := range factors[1:] {
			actual = math.Max(actual, math.Max(math.Abs(f[0]), math.Max(math.Abs(f[1]), math.Abs(f[2]))))
		}
		q := int(math.Max(0, math.Min(82, math.Floor(actual*166-0.5))))
		maxValue = float64(q+1) / 166
		writeBase83(&sb, q, 1)
	} else {
		writeBase83(&sb, 0, 1)
	}

	dc := factors[0]
	writeBase83(&sb, linearToSRGB(dc[0])<<16|linearToSRGB(dc[1])<<8|linearToSRGB(dc[2]), 4)
	for _, f := range factors[1:] {
		quant := func(v float64) int {
			return int(math.Max(0, math.Min(18, math.Floor(signPow(v/maxValue, 0.5)*9+9.5))))
		}
		writeBase83(&sb, quant(f[0])*19*19+quant(f[1])*19+quant(f[2]), 2)
	}
	return sb.String()
}

func writeBase83(sb *strings.Builder, value, length int) {
	divisor := 1
	for i := 1; i < length; i++ {
		divisor *= 83
	}
	for i := 0; i < length; i++ {
		sb.WriteByte(base83Chars[(value/divisor)%83])
		divisor /= 83
	}
}
