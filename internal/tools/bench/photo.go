package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/souk-tiznit/souk/media"
)

// photoResult compares media.ProcessPhoto with vipsthumbnail on one core.
type photoResult struct {
	Souk, Vips  float64 // photos per second
	SoukRuns    []float64
	VipsRuns    []float64
	InputBytes  int
	VipsVersion string
	VipsSkipped string
	Variants    int
	SoukErr     string
}

// benchPhotos runs the photo pipeline on a 12 MP JPEG (4000×3000, as a
// phone takes it) in this process, pinned to the load generator's core,
// then vipsthumbnail making the same four widths from the same file on
// the same core (one process per width, VIPS_CONCURRENCY=1).
func benchPhotos(ctx context.Context, o options, runDir string, log *slog.Logger) photoResult {
	var pr photoResult
	src := photo12MP()
	pr.InputBytes = len(src)
	in := filepath.Join(runDir, "photo-12mp.jpg")
	if err := os.WriteFile(in, src, 0o640); err != nil {
		pr.SoukErr = err.Error()
		return pr
	}
	limits := media.PhotoLimits{Limiter: media.NewLimiter(0, 0, time.Minute)}
	for range o.Rounds {
		n, start := 0, time.Now()
		for (n == 0 || time.Since(start) < o.Duration) && ctx.Err() == nil {
			ph, err := media.ProcessPhoto(ctx, bytes.NewReader(src), limits)
			if err != nil {
				pr.SoukErr = err.Error()
				return pr
			}
			pr.Variants = len(ph.Variants)
			n++
		}
		pr.SoukRuns = append(pr.SoukRuns, float64(n)/time.Since(start).Seconds())
	}
	pr.Souk = median(pr.SoukRuns)
	log.Info("photo pipeline", "photos_per_s", pr.Souk)

	vips, err := exec.LookPath("vipsthumbnail")
	if err != nil {
		pr.VipsSkipped = "vipsthumbnail is not installed (apt-get install -y libvips-tools): skipped"
		return pr
	}
	if out, err := exec.Command(vips, "--vips-version").CombinedOutput(); err == nil {
		pr.VipsVersion = strings.TrimSpace(string(out))
	}
	for range o.Rounds {
		n, start := 0, time.Now()
		for (n == 0 || time.Since(start) < o.Duration) && ctx.Err() == nil {
			for _, w := range []int{2048, 1280, 640, 320} {
				out := filepath.Join(runDir, fmt.Sprintf("vips-%d.jpg", w))
				cmd := exec.Command(vips, in, "-s", fmt.Sprintf("%dx", w), "-o", out+"[Q=82,strip]")
				cmd.Env = append(os.Environ(), "VIPS_CONCURRENCY=1")
				if b, err := cmd.CombinedOutput(); err != nil {
					pr.VipsSkipped = fmt.Sprintf("vipsthumbnail failed: %v: %.200s", err, b)
					return pr
				}
			}
			n++
		}
		pr.VipsRuns = append(pr.VipsRuns, float64(n)/time.Since(start).Seconds())
	}
	pr.Vips = median(pr.VipsRuns)
	log.Info("vipsthumbnail", "photos_per_s", pr.Vips)
	return pr
}

// photo12MP is a 4000×3000 JPEG with noise, as heavy to decode as a photo.
func photo12MP() []byte {
	const w, h = 4000, 3000
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(12, 12))
	for y := range h {
		for x := range w {
			v := uint8(rng.IntN(24))
			img.SetRGBA(x, y, color.RGBA{uint8(x*255/w) - v/2, uint8(y*255/h) - v/2, 0x80 + v, 0xff})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
