package api_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/api"
	"github.com/souk-tiznit/souk/internal/testenv"
)

// The API against its contract (issue "reliability"): every operation of
// api/openapi.yaml is called with the valid request of its roles × routes
// case and with requests derived from it to be hostile — wrong types,
// missing and extra fields, huge strings, unicode edge cases, negative and
// enormous numbers, malformed JSON, wrong content types, junk in the path
// and the query — as anonymous, as a caller the case lets in and as an
// administrator. It passes when no answer is a 5xx, every 4xx is
// application/problem+json, and every status is one the operation
// documents. SOUK_CONTRACT_SEED changes the generated requests.
func TestContractFuzz(t *testing.T) {
	if testing.Short() {
		t.Skip("sends thousands of requests (short mode)")
	}
	seed := uint64(20261123)
	if s := os.Getenv("SOUK_CONTRACT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SOUK_CONTRACT_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (set SOUK_CONTRACT_SEED to vary)", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5ec))

	ops, err := api.Operations()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]map[int]bool{}
	for _, o := range ops {
		codes := map[int]bool{}
		for _, r := range o.Responses {
			if n, err := strconv.Atoi(r); err == nil {
				codes[n] = true
			}
		}
		documented[o.Method+" "+o.Path] = codes
	}

	env := startEnv(t, envOptions{Limits: account.Limits{
		SignUpPerIP: account.Limit{Max: 1_000_000, Window: time.Hour}, ResetPerIP: account.Limit{Max: 1_000_000, Window: time.Hour},
		LoginPerIP: account.Limit{Max: 1_000_000, Window: time.Hour}, LoginPerAccount: account.Limit{Max: 1_000_000, Window: time.Hour},
	}})
	w := newMatrixWorld(t, env)
	for _, setup := range matrixSetups {
		setup(t, w)
	}

	sent := map[string]int{}
	undocumented := map[string]map[int]string{}
	failures := 0
	check := func(op string, v contractRequest, who int, got reply) {
		t.Helper()
		sent[op]++
		bad := ""
		switch {
		case got.Status >= 500:
			bad = "a server error"
		case got.Status >= 400 && got.Header.Get("Content-Type") != api.ProblemContentType:
			bad = "a client error that is not application/problem+json (" + got.Header.Get("Content-Type") + ")"
		}
		if bad != "" {
			failures++
			if failures <= 40 {
				t.Errorf("%s [%s] as %s: %s %s answered %d, %s: %.300s\nbody sent: %.300s",
					op, v.what, callerNames[who], v.method, v.path, got.Status, bad, got.Body, v.bodyText())
			}
			return
		}
		if codes, ok := documented[op]; ok && !codes[got.Status] {
			if undocumented[op] == nil {
				undocumented[op] = map[int]string{}
			}
			if _, seen := undocumented[op][got.Status]; !seen {
				undocumented[op][got.Status] = fmt.Sprintf("[%s] as %s: %s %.200s", v.what, callerNames[who], v.path, got.Body)
			}
		}
	}

	for _, mc := range matrixCases {
		method, pattern, _ := strings.Cut(mc.Route, " ")
		op := method + " " + api.OpenAPIPath(pattern)
		if _, ok := documented[op]; !ok {
			t.Errorf("route %s is not in api/openapi.yaml", op)
			continue
		}
		for _, who := range contractCallers(mc.Want) {
			c := w.callers[who]
			if mc.Fresh && who != asAnon {
				c = w.newCaller(t, who)
			}
			valid := mc.Request(t, w, c)
			for _, v := range contractVariants(rng, method, pattern, valid) {
				got := env.send(t, call{Method: v.method, Path: v.path, Body: v.body, Token: c.Token, Header: v.header})
				check(op, v, who, got)
			}
		}
	}
	// Operations outside /api/v1 (health, metrics, the contract itself).
	for _, o := range ops {
		op := o.Method + " " + o.Path
		if sent[op] > 0 || strings.Contains(o.Path, "{") {
			continue
		}
		for _, q := range []string{"", "?x=1", "?" + strings.Repeat("a", 3000) + "=1", "?page=%00", "?lang=\u202e"} {
			v := contractRequest{what: "query " + q, method: o.Method, path: o.Path + q}
			check(op, v, asAnon, env.send(t, call{Method: o.Method, Path: v.path}))
		}
	}

	total := 0
	var lines []string
	for _, o := range ops {
		op := o.Method + " " + o.Path
		total += sent[op]
		lines = append(lines, fmt.Sprintf("%6d  %s", sent[op], op))
		if sent[op] == 0 {
			t.Errorf("no request was sent to %s: give it a case in the roles × routes matrix", op)
		}
	}
	t.Logf("requests per operation (%d operations, %d requests):\n%s", len(ops), total, strings.Join(lines, "\n"))
	undocCount := 0
	for _, codes := range undocumented {
		undocCount += len(codes)
	}
	testenv.Report(t, fmt.Sprintf("contract: %d OpenAPI operations fuzzed (5xx, non-problem 4xx, undocumented status)", len(ops)), int64(total), int64(failures+undocCount))
	var keys []string
	for op := range undocumented {
		keys = append(keys, op)
	}
	sort.Strings(keys)
	for _, op := range keys {
		var codes []int
		for c := range undocumented[op] {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			t.Errorf("%s answered %d, which api/openapi.yaml does not document for it; e.g. %s", op, c, undocumented[op][c])
		}
	}
	if failures > 40 {
		t.Errorf("%d failures in all (the first 40 shown)", failures)
	}
}

// contractCallers are who a case is fuzzed as: anonymous, the first caller
// it lets in (so that the hostile requests reach the handler), and the
// administrator.
func contractCallers(want expect) []int {
	out := []int{asAnon}
	for who := asBuyer; who < nCallers; who++ {
		if st := want.of(who); st >= 200 && st < 300 {
			out = append(out, who)
			break
		}
	}
	if !slices.Contains(out, asAdmin) {
		out = append(out, asAdmin)
	}
	return out
}

// contractRequest is one generated request.
type contractRequest struct {
	what         string // how it was derived from the valid request
	method, path string
	body         any // as call.Body
	header       map[string]string
}

func (r contractRequest) bodyText() string {
	switch b := r.body.(type) {
	case nil:
		return ""
	case string:
		return b
	case []byte:
		return string(b)
	}
	j, _ := json.Marshal(r.body)
	return string(j)
}

// hostileValues replace one field of a valid body.
var hostileValues = []any{
	nil, true, false, 0, -1, 1.5, int64(-9223372036854775808), int64(9223372036854775807),
	json.RawMessage("1e309"), json.RawMessage("-1e309"), json.RawMessage("123456789012345678901234567890"), json.RawMessage("-0"),
	"", " ", "0", "-1", "9999-99-99", "2026-02-30", "NaN", "null",
	strings.Repeat("ⵣ", 20_000), strings.Repeat("x", 70_000),
	"\u202eevil\u202c", "nul\u0000byte", "\ufeffbom", "😀🏺", "عربي", "' OR '1'='1", "<script>alert(1)</script>", "../../etc/passwd",
	[]any{}, []any{1, "a", nil}, map[string]any{}, map[string]any{"fr": strings.Repeat("é", 5000)},
}

// hostileBodies replace the whole body.
var hostileBodies = []struct{ what, body string }{
	{"empty body", ""},
	{"truncated JSON", `{"a":`},
	{"array body", `[]`},
	{"string body", `"text"`},
	{"null body", `null`},
	{"two values", `{"a":1}{"b":2}`},
	{"invalid UTF-8", "{\"name\":\"\xff\xfe\"}"},
	{"deep nesting", strings.Repeat("[", 5000) + strings.Repeat("]", 5000)},
	{"huge key", `{"` + strings.Repeat("k", 100_000) + `":1}`},
}

// hostileSegments replace an identifier in the path.
var hostileSegments = []string{"0", "-1", "99999999999999999999", "abc", "%00", "%2e%2e", "%D9%A1%D9%A2", strings.Repeat("9", 300), "1.5", "%20"}

// hostileQuery replace a query parameter's value.
var hostileQuery = []string{"-1", "0", "99999999999999999999", "abc", "", strings.Repeat("q", 5000), "\u0000", "2026-13-45", "ⵜⴰ", "' OR 1=1 --"}

// contractVariants derives requests from a valid one.
func contractVariants(rng *rand.Rand, method, pattern string, valid matrixRequest) []contractRequest {
	base := contractRequest{what: "valid", method: method, path: valid.Path, body: valid.Body, header: valid.Header}
	out := []contractRequest{base}
	pathOnly, rawQuery, _ := strings.Cut(valid.Path, "?")

	// The path: each identifier replaced.
	ps, segs := strings.Split(pattern, "/"), strings.Split(pathOnly, "/")
	for i := range ps {
		if !strings.HasPrefix(ps[i], ":") || i >= len(segs) {
			continue
		}
		for _, k := range rng.Perm(len(hostileSegments))[:4] {
			s := slices.Clone(segs)
			s[i] = hostileSegments[k]
			v := base
			v.what, v.path = "path "+ps[i]+"="+shorten(hostileSegments[k]), strings.Join(s, "/")
			if rawQuery != "" {
				v.path += "?" + rawQuery
			}
			out = append(out, v)
		}
	}

	// The query: each parameter given junk, and paging junk added.
	q, _ := url.ParseQuery(rawQuery)
	names := []string{"page", "per_page"}
	for k := range q {
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		for _, k := range rng.Perm(len(hostileQuery))[:3] {
			qq := url.Values{}
			for k2, vs := range q {
				qq[k2] = slices.Clone(vs)
			}
			qq.Set(name, hostileQuery[k])
			v := base
			v.what, v.path = "query "+name+"="+shorten(hostileQuery[k]), pathOnly+"?"+qq.Encode()
			out = append(out, v)
		}
	}

	// The body: only where the valid request sends JSON.
	obj, isJSON := jsonObject(valid.Body)
	if !isJSON || valid.Header["Content-Type"] != "" {
		if method != "GET" && method != "DELETE" {
			for _, hb := range hostileBodies[:4] {
				v := base
				v.what, v.body = hb.what, hb.body
				out = append(out, v)
			}
		}
		return out
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m := cloneMap(obj)
		delete(m, k)
		out = append(out, contractRequest{what: "without " + k, method: method, path: valid.Path, body: m})
		for _, i := range rng.Perm(len(hostileValues))[:6] {
			m := cloneMap(obj)
			m[k] = hostileValues[i]
			out = append(out, contractRequest{what: k + "=" + shorten(fmt.Sprint(hostileValues[i])), method: method, path: valid.Path, body: m})
		}
		// One level down: the fields of an object value (an address, a
		// text in several languages).
		if inner, ok := obj[k].(map[string]any); ok {
			for ik := range inner {
				m := cloneMap(obj)
				mi := cloneMap(inner)
				mi[ik] = hostileValues[rng.IntN(len(hostileValues))]
				m[k] = mi
				out = append(out, contractRequest{what: k + "." + ik + "=hostile", method: method, path: valid.Path, body: m})
			}
		}
	}
	extra := cloneMap(obj)
	extra["zz_unknown"] = 1
	out = append(out, contractRequest{what: "unknown field", method: method, path: valid.Path, body: extra})
	for _, hb := range hostileBodies {
		out = append(out, contractRequest{what: hb.what, method: method, path: valid.Path, body: hb.body})
	}
	j, _ := json.Marshal(obj)
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"} {
		out = append(out, contractRequest{what: "content type " + ct, method: method, path: valid.Path, body: j, header: map[string]string{"Content-Type": ct}})
	}
	return out
}

// jsonObject returns a request body as a JSON object, when it is one.
func jsonObject(body any) (map[string]any, bool) {
	switch body.(type) {
	case nil, string, []byte:
		return nil, false
	}
	j, err := json.Marshal(body)
	if err != nil {
		return nil, false
	}
	var m map[string]any
	if json.Unmarshal(j, &m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func shorten(s string) string {
	if len(s) > 24 {
		return fmt.Sprintf("%.20s…(%d bytes)", s, len(s))
	}
	return s
}
