package media

import (
	"image"
	"image/color"
	stddraw "image/draw"

	"golang.org/x/image/draw"
)

// The resampler is x/image/draw's Catmull-Rom kernel. Measured on a 12 MP
// photo (4000×3000 JPEG decoded to YCbCr 4:2:0) scaled down to 2048, 1280,
// 640 and 320, each from the previous one, on one core:
//
//	kernel          time     allocated  aliasing (zone plate, rms)
//	CatmullRom      1.06 s   290 MB     10.9 at 2048, 1.2 at 320
//	BiLinear        0.58 s   289 MB      9.4 at 2048, 0.7 at 320 (blurrier)
//	ApproxBiLinear  0.18 s    18 MB     55.2 at 2048, 7.8 at 320
//
// ApproxBiLinear is six times faster but aliases five times more: moiré on
// exactly what this marketplace photographs (carpet weaves, filigree
// silver, basketry). Photos are uploaded a few at a time, so quality wins;
// the Limiter keeps the cost in check, and photoMemory accounts for the
// kernel's working buffer (a [4]float64 per destination column and source
// row: 196 MB for 12 MP to 2048).
var resampler draw.Interpolator = draw.CatmullRom

// resampleMemory estimates the working memory of resampling sw×sh to dw×dh.
func resampleMemory(sw, sh, dw, dh int64) int64 {
	if sw == dw && sh == dh {
		return 0
	}
	return dw * sh * 32
}

var white = image.NewUniform(color.White)

// resample returns src scaled to w×h as an opaque RGBA image; transparent
// parts of src are laid over white, since JPEG has no transparency.
func resample(src image.Image, w, h int) *image.RGBA {
	sb := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	op := draw.Src
	if !isOpaque(src) {
		stddraw.Draw(dst, dst.Bounds(), white, image.Point{}, stddraw.Src)
		op = draw.Over
	}
	if sb.Dx() == w && sb.Dy() == h {
		stddraw.Draw(dst, dst.Bounds(), src, sb.Min, op)
		return dst
	}
	resampler.Scale(dst, dst.Bounds(), src, sb, op, nil)
	return dst
}
