package media

import (
	"bytes"
	"encoding/binary"
)

// This file reads the one EXIF field the pipeline needs — the orientation
// of a JPEG — and its frame type from bytes that may be hostile. Every offset is checked
// before use; anything malformed means "no orientation" (1), never a
// panic or a refusal: the photo is still decodable without it.

const (
	exifTagOrientation = 0x0112
	tiffTypeShort      = 3
	tiffTypeLong       = 4
	maxJPEGSegments    = 4096 // more markers than any real file has before its image data
)

var exifHeader = []byte("Exif\x00\x00")

// jpegOrientation returns the EXIF orientation (1 to 8) of the JPEG in b,
// or 1 when it has none or its EXIF data cannot be read.
func jpegOrientation(b []byte) int {
	o := 1
	walkJPEGHeader(b, func(marker byte, payload []byte) bool {
		if marker == 0xE1 && bytes.HasPrefix(payload, exifHeader) {
			// The first Exif APP1 is the one that counts (a later APP1 is
			// usually XMP, which has a different header).
			o = tiffOrientation(payload[len(exifHeader):])
			return false
		}
		return true
	})
	return o
}

// jpegProgressive reports whether the JPEG in b is progressive (its frame
// header is SOF2), which makes the decoder keep every coefficient.
func jpegProgressive(b []byte) bool {
	progressive := false
	walkJPEGHeader(b, func(marker byte, _ []byte) bool {
		if marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
			progressive = marker == 0xC2
			return false
		}
		return true
	})
	return progressive
}

// walkJPEGHeader calls fn with each marker segment of the JPEG in b before
// its first scan, until fn returns false. It stops quietly at anything
// malformed.
func walkJPEGHeader(b []byte, fn func(marker byte, payload []byte) bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return
	}
	pos := 2
	for seg := 0; seg < maxJPEGSegments; seg++ {
		// A marker is 0xFF, possibly padded with more 0xFF bytes, then a
		// code byte.
		if pos >= len(b) || b[pos] != 0xFF {
			return
		}
		for pos < len(b) && b[pos] == 0xFF {
			pos++
		}
		if pos >= len(b) {
			return
		}
		marker := b[pos]
		pos++
		switch {
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			continue // standalone markers: no length
		case marker == 0xD9 || marker == 0xDA:
			return // end of image or start of scan: the header is over
		}
		if pos+2 > len(b) {
			return
		}
		length := int(binary.BigEndian.Uint16(b[pos:]))
		if length < 2 || pos+length > len(b) {
			return
		}
		payload := b[pos+2 : pos+length]
		pos += length
		if !fn(marker, payload) {
			return
		}
	}
}

// tiffOrientation reads tag 0x0112 from IFD0 of the TIFF structure in t
// (the body of an EXIF segment), in either byte order. It returns 1 when
// the tag is absent, malformed or out of range.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch {
	case t[0] == 'I' && t[1] == 'I':
		order = binary.LittleEndian
	case t[0] == 'M' && t[1] == 'M':
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(t[2:]) != 42 {
		return 1
	}
	ifd := uint64(order.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > uint64(len(t)) {
		return 1
	}
	n := uint64(order.Uint16(t[ifd:]))
	entries := ifd + 2
	for i := uint64(0); i < n; i++ {
		e := entries + i*12
		if e+12 > uint64(len(t)) {
			return 1
		}
		if order.Uint16(t[e:]) != exifTagOrientation {
			continue
		}
		typ, count := order.Uint16(t[e+2:]), order.Uint32(t[e+4:])
		if count != 1 {
			return 1
		}
		// A value of four bytes or fewer sits in the entry itself,
		// left-aligned.
		var v uint32
		switch typ {
		case tiffTypeShort:
			v = uint32(order.Uint16(t[e+8:]))
		case tiffTypeLong:
			v = order.Uint32(t[e+8:])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}

// orientationSwapsAxes reports whether orientation o turns the picture by
// a quarter turn, so that its displayed width is its stored height.
func orientationSwapsAxes(o int) bool { return o >= 5 && o <= 8 }
