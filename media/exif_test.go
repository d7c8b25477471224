package media

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestTIFFOrientation(t *testing.T) {
	for _, order := range []byteOrder{binary.BigEndian, binary.LittleEndian} {
		for o := uint16(1); o <= 8; o++ {
			for _, gps := range []bool{false, true} {
				if got := tiffOrientation(exifTIFF(order, o, gps)); got != int(o) {
					t.Errorf("%v orientation %d (gps %v): read %d", order, o, gps, got)
				}
			}
		}
	}
}

func TestJPEGOrientation(t *testing.T) {
	jpg := encodeJPEG(t, quadrants(16, 16))
	if got := jpegOrientation(jpg); got != 1 {
		t.Errorf("a JPEG without EXIF: %d, want 1", got)
	}
	withXMPFirst := withEXIF(jpg, exifTIFF(binary.LittleEndian, 3, false))
	xmp := append([]byte{0xFF, 0xE1, 0, 0}, "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"...)
	binary.BigEndian.PutUint16(xmp[2:], uint16(len(xmp)-2))
	withXMPFirst = append(append(append([]byte{}, withXMPFirst[:2]...), xmp...), withXMPFirst[2:]...)
	// Fill bytes before a marker are allowed.
	padded := append(append([]byte{}, jpg[:2]...), 0xFF, 0xFF)
	padded = append(padded, withEXIF(jpg, exifTIFF(binary.BigEndian, 5, true))[3:]...)
	for name, tc := range map[string]struct {
		data []byte
		want int
	}{
		"BigEndian6":    {withEXIF(jpg, exifTIFF(binary.BigEndian, 6, true)), 6},
		"LittleEndian8": {withEXIF(jpg, exifTIFF(binary.LittleEndian, 8, true)), 8},
		"AfterXMP":      {withXMPFirst, 3},
		"FillBytes":     {padded, 5},
		// Entries are read while they fit: a count running past the end
		// does not hide an orientation that comes first.
		"HugeCount": {withEXIF(jpg, func() []byte {
			b := exifTIFF(binary.BigEndian, 6, false)
			binary.BigEndian.PutUint16(b[8:], 0xFFFF)
			return b
		}()), 6},
	} {
		if got := jpegOrientation(tc.data); got != tc.want {
			t.Errorf("%s: %d, want %d", name, got, tc.want)
		}
	}
}

// Hostile EXIF must read as "no orientation", never panic.
func TestTIFFOrientation_Hostile(t *testing.T) {
	good := exifTIFF(binary.BigEndian, 6, false)
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, good...)) }
	for name, b := range map[string][]byte{
		"Empty":       nil,
		"ShortHeader": good[:7],
		"BadOrder":    mutate(func(b []byte) []byte { b[0], b[1] = 'X', 'X'; return b }),
		"BadMagic":    mutate(func(b []byte) []byte { b[3] = 43; return b }),
		"IFDPastEnd":  mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[4:], 0xFFFFFFF0); return b }),
		"IFDInHeader": mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[4:], 2); return b }),
		"HugeCount": mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[8:], 0xFFFF)  // entries run past the end …
			binary.BigEndian.PutUint16(b[10:], 0x0110) // … and none is the orientation
			return b
		}),
		"TruncatedEntry": good[:len(good)-8],
		"WrongType":      mutate(func(b []byte) []byte { binary.BigEndian.PutUint16(b[12:], 2); return b }),
		"CountTwo":       mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[14:], 2); return b }),
		"ValueZero":      mutate(func(b []byte) []byte { binary.BigEndian.PutUint16(b[18:], 0); return b }),
		"ValueNine":      mutate(func(b []byte) []byte { binary.BigEndian.PutUint16(b[18:], 9); return b }),
	} {
		if got := tiffOrientation(b); got != 1 {
			t.Errorf("%s: %d, want 1", name, got)
		}
	}
	for name, b := range map[string][]byte{
		"NotJPEG":        []byte("hello"),
		"SOIOnly":        {0xFF, 0xD8},
		"NoMarker":       {0xFF, 0xD8, 0x00, 0x01},
		"LengthPastEnd":  {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x'},
		"LengthTooShort": {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01},
		"OnlyFill":       {0xFF, 0xD8, 0xFF, 0xFF, 0xFF},
	} {
		if got := jpegOrientation(b); got != 1 {
			t.Errorf("%s: %d, want 1", name, got)
		}
	}
}

// FuzzOrientation feeds the EXIF reader arbitrary JPEG and TIFF bytes: it
// must never panic and always answer an orientation from 1 to 8. The frame
// type reader, walking the same markers, must not panic either.
func FuzzOrientation(f *testing.F) {
	jpg := encodeJPEG(f, quadrants(8, 8))
	for o := uint16(1); o <= 8; o++ {
		f.Add(withEXIF(jpg, exifTIFF(binary.BigEndian, o, o%2 == 0)))
	}
	f.Add(withEXIF(jpg, exifTIFF(binary.LittleEndian, 6, true)))
	f.Add(exifTIFF(binary.LittleEndian, 7, true))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		jpegProgressive(data)
		for name, o := range map[string]int{"jpeg": jpegOrientation(data), "tiff": tiffOrientation(data)} {
			if o < 1 || o > 8 {
				t.Fatalf("%s orientation %d out of range", name, o)
			}
		}
	})
}

func TestJPEGProgressive(t *testing.T) {
	baseline := encodeJPEG(t, quadrants(16, 16))
	progressive := bytes.Replace(baseline, []byte{0xFF, 0xC0}, []byte{0xFF, 0xC2}, 1)
	if jpegProgressive(baseline) {
		t.Error("a baseline JPEG reads as progressive")
	}
	if !jpegProgressive(withEXIF(progressive, exifTIFF(binary.BigEndian, 6, true))) {
		t.Error("a progressive JPEG reads as baseline")
	}
	if jpegProgressive([]byte{0xFF, 0xD8, 0xFF, 0xC2}) {
		t.Error("a truncated frame header reads as progressive")
	}
}
