package storefront

import (
	"encoding/json"
	"reflect"
	"testing"
)

// variantInputs are variants columns as stored and as they should never
// be: the plain form decodeVariants reads, and forms it must hand to
// encoding/json.
var variantInputs = []string{
	`[]`,
	` [ ] `,
	`[{"width":320,"height":240,"key":"public/photos/ab/abc-320.jpg"},{"width":640,"height":480,"key":"public/photos/ab/abc-640.jpg"}]`,
	"[ {\"key\" : \"public/x.jpg\", \"height\":\t7 ,\n\"width\":-3 } ]",
	`[{}]`,
	`[{"width":0,"height":0,"key":""}]`,
	`[{"width":123456789,"height":1,"key":"k"}]`,
	`[{"width":1234567890,"height":1,"key":"k"}]`,
	`[{"width":99999999999999999999,"height":1,"key":"k"}]`,
	`[{"width":1.5,"height":1,"key":"k"}]`,
	`[{"width":1e3,"height":1,"key":"k"}]`,
	`[{"width":01,"height":1,"key":"k"}]`,
	`[{"width":-0,"height":1,"key":"k"}]`,
	`[{"width":-,"height":1,"key":"k"}]`,
	`[{"Width":320,"HEIGHT":240,"Key":"k"}]`,
	`[{"width":320,"width":640}]`,
	`[{"width":320,"extra":true,"key":"k"}]`,
	`[{"width":"320","key":"k"}]`,
	`[{"key":null}]`,
	`[{"key":"a\"b"}]`,
	`[{"key":"caf\u00e9"}]`,
	`[{"key":"café"}]`,
	"[{\"key\":\"\xff\"}]",
	"[{\"key\":\"a\x01b\"}]",
	`[null]`,
	`null`,
	`{}`,
	`[`,
	`[{"width":1}`,
	`[{"width":1},]`,
	`[{"width":1,}]`,
	`[{"width":1}]x`,
	`[{"width":1}][]`,
	`[{"width" 1}]`,
	`[{width:1}]`,
	`[1]`,
	``,
	`"[]"`,
}

// decodeVariants gives what encoding/json gives whenever it answers, and
// answers the form Value writes.
func TestDecodeVariantsAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range variantInputs {
		checkVariantsAgree(t, in)
	}
	for _, vs := range []PhotoVariants{nil, {}, photoRecord(1).Variants, {{Width: 1, Height: maxPhotoSide, Key: "public/a-b_c.d/e.jpg"}}} {
		v, err := vs.Value()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := decodeVariants(v.(string))
		if !ok {
			t.Errorf("decodeVariants refuses what Value writes: %s", v)
		}
		want := vs
		if want == nil {
			want = PhotoVariants{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decodeVariants(%s) = %#v, want %#v", v, got, want)
		}
		var scanned PhotoVariants
		if err := scanned.Scan([]byte(v.(string))); err != nil || !reflect.DeepEqual(scanned, want) {
			t.Errorf("Scan(%s) = %#v, %v; want %#v", v, scanned, err, want)
		}
	}
}

func checkVariantsAgree(t *testing.T, in string) {
	t.Helper()
	var want []PhotoVariant
	wantErr := json.Unmarshal([]byte(in), &want)
	vs, ok := decodeVariants(in)
	if bvs, bok := decodeVariants([]byte(in)); bok != ok || !reflect.DeepEqual(bvs, vs) {
		t.Fatalf("decodeVariants(%q) differs on string and bytes: %#v %v, %#v %v", in, vs, ok, bvs, bok)
	}
	if ok && (wantErr != nil || !reflect.DeepEqual([]PhotoVariant(vs), want)) {
		t.Fatalf("decodeVariants(%q) = %#v; encoding/json gives %#v, %v", in, vs, want, wantErr)
	}
	for _, got := range []struct {
		src  string
		scan func() (PhotoVariants, error)
	}{
		{"string", func() (PhotoVariants, error) { var v PhotoVariants; err := v.Scan(in); return v, err }},
		{"bytes", func() (PhotoVariants, error) { var v PhotoVariants; err := v.Scan([]byte(in)); return v, err }},
	} {
		// Scan always agrees with encoding/json (an empty column is no
		// variants, as scanJSON reads it).
		scanned, err := got.scan()
		if in == "" {
			if err != nil || scanned != nil {
				t.Fatalf("Scan of an empty column (%s) = %#v, %v", got.src, scanned, err)
			}
			continue
		}
		if (err != nil) != (wantErr != nil) || err == nil && !reflect.DeepEqual([]PhotoVariant(scanned), want) {
			t.Fatalf("Scan(%q) from %s = %#v, %v; encoding/json gives %#v, %v", in, got.src, scanned, err, want, wantErr)
		}
	}
}

func FuzzDecodeVariants(f *testing.F) {
	for _, in := range variantInputs {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) { checkVariantsAgree(t, in) })
}
