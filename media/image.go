package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/souk-tiznit/souk/errs"
)

// Limits and settings of the photo pipeline (DESIGN rule 7).
const (
	// DefaultMaxPhotoBytes is the largest photo upload accepted (15 MiB).
	DefaultMaxPhotoBytes = 15 << 20
	// DefaultMaxPhotoPixels is the largest photo accepted, in pixels (40 MP).
	DefaultMaxPhotoPixels = 40_000_000
	// PhotoQuality is the JPEG quality of every variant.
	PhotoQuality = 82
	// PhotoContentType is the content type of every variant.
	PhotoContentType = "image/jpeg"
	// PhotoCacheControl suits variants: their keys name their content, so
	// they never change.
	PhotoCacheControl = "public, max-age=31536000, immutable"
	// maxJPEGSide is the largest width or height a JPEG can have.
	maxJPEGSide = 65535
	// sniffLen is how many leading bytes decide the type of an upload.
	sniffLen = 512
)

// photoWidths are the widths of the variants, smallest first.
var photoWidths = [...]int{320, 640, 1280, 2048}

// PhotoLimits bound what ProcessPhoto accepts and the machine it may use.
type PhotoLimits struct {
	MaxBytes  int64    // largest upload in bytes; DefaultMaxPhotoBytes when 0
	MaxPixels int64    // largest width×height; DefaultMaxPhotoPixels when 0
	Limiter   *Limiter // shared bound on decoding work; DefaultLimiter() when nil
}

// DefaultPhotoLimits returns the limits of DESIGN rule 7 with the
// process-wide limiter.
func DefaultPhotoLimits() PhotoLimits {
	return PhotoLimits{MaxBytes: DefaultMaxPhotoBytes, MaxPixels: DefaultMaxPhotoPixels, Limiter: DefaultLimiter()}
}

// Photo is an uploaded photo made safe to publish: re-encoded from its
// pixels (so without EXIF, GPS or any other metadata), turned upright, and
// resized.
type Photo struct {
	Format      string         // what the upload was: "jpeg", "png" or "webp"
	Width       int            // displayed width of the original, after orientation
	Height      int            // displayed height of the original, after orientation
	Orientation int            // the EXIF orientation that was applied (1 = none)
	Color       string         // dominant colour as "#rrggbb", for a placeholder
	BlurHash    string         // BlurHash placeholder (https://blurha.sh)
	Variants    []PhotoVariant // the resized JPEGs, smallest first; never empty
}

// PhotoVariant is one resized JPEG of a photo.
type PhotoVariant struct {
	Width  int
	Height int
	// Key is content-addressed:
	// "public/photos/<first 2 hex of sha256>/<sha256 hex>-<width>.jpg".
	Key  string
	Data []byte
}

// Save puts every variant into s as an immutable public JPEG. It writes
// even a key that already exists, which refreshes its age so that
// SweepOrphans spares it while the caller records the photo. If Save
// fails part-way the objects already written are orphans for SweepOrphans.
func (p *Photo) Save(ctx context.Context, s Store) error {
	for _, v := range p.Variants {
		err := s.Put(ctx, v.Key, bytes.NewReader(v.Data), int64(len(v.Data)),
			PutOptions{ContentType: PhotoContentType, CacheControl: PhotoCacheControl})
		if err != nil {
			return fmt.Errorf("save photo variant %d px: %w", v.Width, err)
		}
	}
	return nil
}

// Keys returns the keys of the variants, smallest first.
func (p *Photo) Keys() []string {
	keys := make([]string, len(p.Variants))
	for i, v := range p.Variants {
		keys[i] = v.Key
	}
	return keys
}

// ProcessPhoto reads an uploaded photo and makes it safe to publish.
//
// The type comes from the bytes, never from a name: JPEG, PNG or WebP,
// anything else is refused with errs.UnsupportedMedia naming what it looks
// like. An upload over limits.MaxBytes is errs.TooLarge, and so is one
// whose header declares more than limits.MaxPixels — checked before any
// pixel is decoded. A damaged or truncated file is errs.Invalid. When the
// limiter stays saturated the answer is errs.Unavailable with RetryAfter.
//
// The photo is decoded, turned upright according to its EXIF orientation
// (JPEG), and re-encoded as JPEG at quality PhotoQuality in widths 320,
// 640, 1280 and 2048, never enlarged: widths not below the original's are
// skipped, and a photo narrower than 320 gets one variant at its own width.
func ProcessPhoto(ctx context.Context, r io.Reader, limits PhotoLimits) (*Photo, error) {
	if limits.MaxBytes <= 0 {
		limits.MaxBytes = DefaultMaxPhotoBytes
	}
	if limits.MaxPixels <= 0 {
		limits.MaxPixels = DefaultMaxPhotoPixels
	}
	if limits.Limiter == nil {
		limits.Limiter = DefaultLimiter()
	}

	data, format, err := readPhoto(r, limits.MaxBytes)
	if err != nil {
		return nil, err
	}

	cfg, err := decodeConfig(format, data)
	if err != nil {
		return nil, damaged(format, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return nil, errs.E(errs.Invalid, "the image is damaged or truncated: it declares a size of %d×%d pixels", cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > limits.MaxPixels {
		return nil, errs.E(errs.TooLarge, "the photo is %d×%d pixels (%.1f megapixels); the limit is %.0f megapixels",
			cfg.Width, cfg.Height, float64(px)/1e6, float64(limits.MaxPixels)/1e6)
	}

	orientation := 1
	if format == "jpeg" {
		orientation = jpegOrientation(data)
	}
	p := &Photo{Format: format, Width: cfg.Width, Height: cfg.Height, Orientation: orientation}
	if orientationSwapsAxes(orientation) {
		p.Width, p.Height = cfg.Height, cfg.Width
	}
	sizes := variantSizes(p.Width, p.Height)

	release, err := limits.Limiter.Acquire(ctx, photoMemory(cfg, format == "jpeg" && jpegProgressive(data), sizes[len(sizes)-1], orientation))
	if err != nil {
		return nil, err
	}
	defer release()

	img, err := decodeImage(format, data)
	if err != nil {
		return nil, damaged(format, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, errs.E(errs.Invalid, "the image is damaged or truncated: its header and its pixels disagree on its size")
	}

	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("process photo: %w", err)
	}
	variants, err := renderVariants(ctx, img, orientation, sizes)
	if err != nil {
		return nil, err
	}
	smallest := variants[0]
	p.Color = dominantColor(smallest)
	p.BlurHash = placeholderHash(smallest)

	for _, v := range variants {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, v, &jpeg.Options{Quality: PhotoQuality}); err != nil {
			return nil, fmt.Errorf("encode photo variant: %w", err)
		}
		sum := sha256.Sum256(buf.Bytes())
		h := hex.EncodeToString(sum[:])
		b := v.Bounds()
		p.Variants = append(p.Variants, PhotoVariant{
			Width:  b.Dx(),
			Height: b.Dy(),
			Key:    fmt.Sprintf("%sphotos/%s/%s-%d.jpg", PublicPrefix, h[:2], h, b.Dx()),
			Data:   buf.Bytes(),
		})
	}
	return p, nil
}

// decodeConfig reads the format and size from data's header, without
// decoding pixels. Like decodeImage, it turns a decoder's panic into an
// error.
func decodeConfig(format string, data []byte) (cfg image.Config, err error) {
	defer func() {
		if p := recover(); p != nil {
			cfg, err = image.Config{}, fmt.Errorf("decoder panic: %v", p)
		}
	}()
	switch format {
	case "jpeg":
		return jpeg.DecodeConfig(bytes.NewReader(data))
	case "png":
		return png.DecodeConfig(bytes.NewReader(data))
	case "webp":
		return webp.DecodeConfig(bytes.NewReader(data))
	}
	return image.Config{}, fmt.Errorf("no decoder for %q", format)
}

// decodeImage decodes data. The decoders are fuzzed upstream, but they
// read hostile bytes: a panic in one is turned into an error, so that a
// crafted upload gets a 422 and not a crashed request.
func decodeImage(format string, data []byte) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("decoder panic: %v", p)
		}
	}()
	switch format {
	case "jpeg":
		return jpeg.Decode(bytes.NewReader(data))
	case "png":
		return png.Decode(bytes.NewReader(data))
	case "webp":
		return webp.Decode(bytes.NewReader(data))
	}
	return nil, fmt.Errorf("no decoder for %q", format)
}

// readPhoto reads the upload, refusing what is not a photo from its first
// bytes and what is too large before holding more than maxBytes of it.
func readPhoto(r io.Reader, maxBytes int64) ([]byte, string, error) {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, "", fmt.Errorf("read photo: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return nil, "", errs.E(errs.Invalid, "the file is empty")
	}
	format, what := sniffImage(head)
	if format == "" {
		return nil, "", errs.E(errs.UnsupportedMedia, "photos must be JPEG, PNG or WebP; this file looks like %s", what)
	}
	if format == "webp" && len(head) > 20 && string(head[12:16]) == "VP8X" && head[20]&0x02 != 0 {
		return nil, "", errs.E(errs.UnsupportedMedia, "animated WebP images are not supported; upload a still photo")
	}
	data, err := readAllLimited(io.MultiReader(bytes.NewReader(head), r), maxBytes)
	if err != nil {
		return nil, "", err
	}
	return data, format, nil
}

// readAllLimited reads r to its end, or refuses with errs.TooLarge as soon
// as it yields more than max bytes.
func readAllLimited(r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if n > max {
		return nil, errs.E(errs.TooLarge, "the file is larger than the limit of %s", formatBytes(max))
	}
	return buf.Bytes(), nil
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// sniffImage names the image format of head ("jpeg", "png", "webp") or,
// when it is none of them, returns "" and a description of what it is.
func sniffImage(head []byte) (format, what string) {
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return "jpeg", ""
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png", ""
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "webp", ""
	}
	return "", describe(head)
}

// describe says what a file that is not an accepted type looks like.
func describe(head []byte) string {
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch brand := string(head[8:12]); brand {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return "a HEIC/HEIF photo (export it as JPEG)"
		case "avif", "avis":
			return "an AVIF image"
		default:
			return "an MP4/QuickTime video"
		}
	}
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "a PDF document"
	case bytes.HasPrefix(head, []byte("II*\x00")) || bytes.HasPrefix(head, []byte("MM\x00*")):
		return "a TIFF image"
	}
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch ct {
	case "text/html":
		return "an HTML page"
	case "text/plain":
		return "plain text"
	case "image/gif":
		return "a GIF image"
	case "image/bmp":
		return "a BMP image"
	case "image/svg+xml", "text/xml":
		return "an SVG or XML document"
	case "application/zip":
		return "a ZIP archive"
	case "application/octet-stream":
		return "binary data of unknown type"
	}
	return "a file of type " + ct
}

// damaged turns a decoder's error into a client error: a feature the
// decoder lacks (arithmetic-coded or 12-bit JPEG, say) is UnsupportedMedia,
// anything else Invalid.
func damaged(format string, cause error) error {
	cause = fmt.Errorf("decode %s: %w", format, cause)
	var jpegUnsupported jpeg.UnsupportedError
	var pngUnsupported png.UnsupportedError
	switch {
	case errors.As(cause, &jpegUnsupported):
		return errs.Wrap(errs.UnsupportedMedia, cause, "this JPEG uses a feature that is not supported (%s); save it again as a baseline or progressive JPEG", string(jpegUnsupported))
	case errors.As(cause, &pngUnsupported):
		return errs.Wrap(errs.UnsupportedMedia, cause, "this PNG uses a feature that is not supported (%s)", string(pngUnsupported))
	}
	return errs.Wrap(errs.Invalid, cause, "the image is damaged or truncated")
}

// variantSizes lists the displayed sizes of the variants of a w×h photo,
// smallest first (see ProcessPhoto).
func variantSizes(w, h int) []image.Point {
	var sizes []image.Point
	for _, vw := range photoWidths {
		if vw >= w {
			break
		}
		sizes = append(sizes, fitWidth(w, h, vw))
	}
	if len(sizes) == 0 {
		sizes = append(sizes, fitWidth(w, h, min(w, photoWidths[0])))
	}
	return sizes
}

// fitWidth scales w×h to width vw, keeping the aspect ratio, with both
// sides at least 1 and at most what JPEG allows.
func fitWidth(w, h, vw int) image.Point {
	vh := int((int64(h)*int64(vw) + int64(w)/2) / int64(w))
	if vh > maxJPEGSide {
		vw = max(1, int(int64(vw)*maxJPEGSide/int64(vh)))
		vh = maxJPEGSide
	}
	return image.Pt(vw, max(1, vh))
}

// photoMemory estimates the peak memory of processing a photo, for the
// limiter: the decoded image (and, for a progressive JPEG, the decoder's
// coefficients: an int32 per sample), the resampler's working buffer, and
// the variants (the largest dominates).
func photoMemory(cfg image.Config, progressive bool, largest image.Point, orientation int) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	bpp := int64(4)
	switch cfg.ColorModel {
	case color.YCbCrModel:
		bpp = 3 // 4:4:4 at worst; 4:2:0 needs 1.5
	case color.GrayModel:
		bpp = 1
	case color.RGBA64Model, color.NRGBA64Model:
		bpp = 8
	case color.Gray16Model:
		bpp = 2
	}
	dw, dh := int64(largest.X), int64(largest.Y)
	if orientationSwapsAxes(orientation) {
		dw, dh = dh, dw
	}
	variants := dw * dh * 4 * 2 // the largest, its upright copy, and the smaller ones
	decoded := px * bpp
	if progressive {
		decoded += px * bpp * 4
	}
	return decoded + resampleMemory(int64(cfg.Width), int64(cfg.Height), dw, dh) + variants
}

// renderVariants scales img to each size (given upright, smallest first)
// and turns each result upright. Each variant is scaled from the next
// larger one, which is cheaper than scaling the original each time and,
// with steps of at most 2×, as good.
func renderVariants(ctx context.Context, img image.Image, orientation int, sizes []image.Point) ([]*image.RGBA, error) {
	out := make([]*image.RGBA, len(sizes))
	var src image.Image = img
	for i := len(sizes) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("process photo: %w", err)
		}
		w, h := sizes[i].X, sizes[i].Y
		if orientationSwapsAxes(orientation) {
			w, h = h, w
		}
		raw := resample(src, w, h)
		out[i] = orient(raw, orientation)
		src = raw
	}
	return out, nil
}

// isOpaque reports whether img has no transparent pixel, looking at the
// pixels only when its type allows transparency.
func isOpaque(img image.Image) bool {
	switch img.(type) {
	case *image.YCbCr, *image.Gray, *image.Gray16, *image.CMYK:
		return true
	}
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// orient returns img turned upright for EXIF orientation o (1 to 8): the
// pixel (x, y) of the result is taken from the stored picture according to
// the tag's meaning (2 mirror, 3 half turn, 4 flip, 5 transpose, 6 quarter
// turn clockwise, 7 transverse, 8 quarter turn anticlockwise).
func orient(img *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := sw, sh
	if orientationSwapsAxes(o) {
		dw, dh = sh, sw
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+dw*4]
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = sw-1-x, y
			case 3:
				sx, sy = sw-1-x, sh-1-y
			case 4:
				sx, sy = x, sh-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, sh-1-x
			case 7:
				sx, sy = sw-1-y, sh-1-x
			case 8:
				sx, sy = sw-1-y, x
			}
			i := img.PixOffset(b.Min.X+sx, b.Min.Y+sy)
			copy(row[x*4:x*4+4], img.Pix[i:i+4])
		}
	}
	return dst
}

// dominantColor returns the most common colour of img as "#rrggbb": pixels
// are sorted into 4096 bins (4 bits a channel) and the fullest bin's mean
// is the answer — closer to what the eye calls "the colour" of a photo of a
// blue pot on a white table than the overall average is.
func dominantColor(img *image.RGBA) string {
	var count [4096]int
	var sum [4096][3]int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		i := img.PixOffset(b.Min.X, y)
		for x := 0; x < b.Dx(); x, i = x+1, i+4 {
			r, g, bl := int(img.Pix[i]), int(img.Pix[i+1]), int(img.Pix[i+2])
			k := (r>>4)<<8 | (g>>4)<<4 | bl>>4
			count[k]++
			sum[k][0] += r
			sum[k][1] += g
			sum[k][2] += bl
		}
	}
	best := 0
	for k := range count {
		if count[k] > count[best] {
			best = k
		}
	}
	n := count[best]
	if n == 0 {
		return "#000000"
	}
	return fmt.Sprintf("#%02x%02x%02x", (sum[best][0]+n/2)/n, (sum[best][1]+n/2)/n, (sum[best][2]+n/2)/n)
}

// placeholderHash returns the BlurHash of img, computed on a copy at most
// 32 pixels on its long side (the hash keeps only a few cosine components,
// so more pixels change nothing but the time spent).
func placeholderHash(img *image.RGBA) string {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	small := img
	if w > 32 || h > 32 {
		sw, sh := 32, max(1, (h*32+w/2)/w)
		if h > w {
			sw, sh = max(1, (w*32+h/2)/h), 32
		}
		small = image.NewRGBA(image.Rect(0, 0, sw, sh))
		draw.CatmullRom.Scale(small, small.Bounds(), img, b, draw.Src, nil)
	}
	nx, ny := 4, 3
	if h > w {
		nx, ny = 3, 4
	}
	return blurHash(small, nx, ny)
}
