package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/api"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testenv"
)

// SQL injection over every text parameter (issue #11). For every operation
// of api/openapi.yaml (api.Operations, as the contract fuzzer lists them)
// and every string parameter it documents — in the path, the query, a
// header, and every string field of its JSON body, nested ones included —
// the valid request of its roles × routes case is sent again with the
// parameter replaced by each probe below: quote breaking, comments in both
// dialects' forms, LIKE wildcards, stacked statements, UNION, boolean
// pairs and time delays. It runs as anonymous (where the route admits
// anonymous callers) and as an administrator (who reaches the most
// routes), on SQLite and on MariaDB, and passes when:
//
//   - no answer is a 5xx, and every 4xx is application/problem+json;
//   - no answer carries a database's error text;
//   - a true and a false condition give the same result set (a list's
//     total), and no more than the plain value gives;
//   - no delay probe takes 2 s longer than the valid request;
//   - the schema is unchanged; no table loses rows unless the valid request
//     (or a DELETE) removes some; no table gains rows unless the valid
//     request or an accepted probe (2xx: a value some field takes as is)
//     is a legitimate write.
func TestSQLInjectionEveryTextParameter(t *testing.T) {
	if testing.Short() {
		t.Skip("sends thousands of requests (short mode)")
	}
	ops, err := api.Operations()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := loadSpecParams(api.OpenAPISpec())
	if err != nil {
		t.Fatal(err)
	}
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		env := startEnv(t, envOptions{Dialect: dialect, Limits: account.Limits{
			SignUpPerIP: account.Limit{Max: 1_000_000, Window: time.Hour}, ResetPerIP: account.Limit{Max: 1_000_000, Window: time.Hour},
			LoginPerIP: account.Limit{Max: 1_000_000, Window: time.Hour}, LoginPerAccount: account.Limit{Max: 1_000_000, Window: time.Hour},
		}})
		w := newMatrixWorld(t, env)
		for _, setup := range matrixSetups {
			setup(t, w)
		}
		schema := schemaDigest(t, env.DB)
		r := &sqliRun{t: t, env: env, w: w, dialect: dialect}
		params, operations := 0, 0
		var lines []string
		for _, o := range ops {
			op := o.Method + " " + o.Path
			targets := spec.targets(op)
			if len(targets) == 0 {
				continue
			}
			sentBefore := r.sent
			for _, who := range []int{asAnon, asAdmin} {
				if mc, ok := caseFor(op, who); ok {
					r.probeOperation(op, mc, who, targets)
				}
			}
			if r.sent == sentBefore {
				// Neither may send it (booking a unit is for renters):
				// the first caller the matrix lets through.
				for who := asBuyer; who < nCallers && r.sent == sentBefore; who++ {
					if mc, ok := caseFor(op, who); ok && mc.Want.of(who) < 300 {
						r.probeOperation(op, mc, who, targets)
					}
				}
			}
			if r.sent == sentBefore {
				t.Errorf("no probe reached %s: give it a case in the roles × routes matrix that anonymous or the administrator may send", op)
				continue
			}
			if got := schemaDigest(t, env.DB); got != schema {
				t.Fatalf("the schema changed while probing %s", op)
			}
			params += len(targets)
			operations++
			lines = append(lines, fmt.Sprintf("%5d  %-60s %s", r.sent-sentBefore, op, targetNames(targets)))
		}
		t.Logf("%s: requests per operation (text parameters probed):\n%s", dialect, strings.Join(lines, "\n"))
		testenv.Report(t, fmt.Sprintf("sqli: %d text parameters × %d probes over %d operations (%s; %d classes from a battery of %d, rotated)",
			params, len(battery(0, dialect))+1+2*perClass, operations, dialect, probeClasses(dialect)+1, len(sqliProbes)+2*len(booleanPairs)),
			int64(r.sent), int64(r.violations))
	})
}

// sqliProbes are the values each text parameter is given.
// sqliProbe is one value; a time probe names the dialect whose delay it
// tries, the others apply to both.
type sqliProbe struct{ class, value, dialect string }

var sqliProbes = []sqliProbe{
	{"quote", `'`, ""},
	{"quote", `"`, ""},
	{"quote", `')--`, ""},
	{"quote", `' OR '1'='1`, ""},
	{"quote", `" OR "1"="1`, ""},
	{"stacked", `1;DROP TABLE products--`, ""},
	{"stacked", `x'; DELETE FROM users; --`, ""},
	{"backslash", `\`, ""},
	{"backslash", `\' OR 1=1 -- `, ""},
	{"wildcard", `%`, ""},
	{"wildcard", `_`, ""},
	{"wildcard", `%' OR name LIKE '%`, ""},
	{"comment", `/*!50000 OR 1=1*/`, ""},
	{"comment", `x' /*!OR*/ '1'='1`, ""},
	{"comment", `x' #`, ""},
	{"comment", `x'-- -`, ""},
	{"union", `' UNION SELECT NULL--`, ""},
	{"union", `x' UNION ALL SELECT email, password_hash FROM users-- `, ""},
	{"union", `1 UNION SELECT 1,2,3`, ""},
	{"time", `' OR SLEEP(3)-- `, database.MySQL},
	{"time", `1) OR SLEEP(3)#`, database.MySQL},
	{"time", `x' AND (SELECT 1 FROM (SELECT SLEEP(3)) s)-- `, database.MySQL},
	{"time", `' OR 1=LIKE('ABCDEFG',UPPER(HEX(RANDOMBLOB(300000000/2))))--`, database.SQLite},
	{"time", `x' OR 1=(SELECT COUNT(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 5000000) SELECT x FROM c))-- `, database.SQLite},
}

// perClass is how many probes of each class, and of the boolean pairs, a
// parameter gets from one caller: they rotate over the parameters, so that
// every parameter gets every class and every probe is sent somewhere,
// which keeps a run (two callers, two dialects) within a minute.
const perClass = 2

// battery picks the probes of parameter n: perClass of each class that
// applies to the dialect, rotating with n.
func battery(n int, dialect string) []sqliProbe {
	byClass := map[string][]sqliProbe{}
	var classes []string
	for _, p := range sqliProbes {
		if p.dialect != "" && p.dialect != dialect {
			continue
		}
		if byClass[p.class] == nil {
			classes = append(classes, p.class)
		}
		byClass[p.class] = append(byClass[p.class], p)
	}
	var out []sqliProbe
	for _, c := range classes {
		ps := byClass[c]
		for k := 0; k < perClass && k < len(ps); k++ {
			out = append(out, ps[(n+k)%len(ps)])
		}
	}
	return out
}

// probeClasses counts the classes of probes for a dialect.
func probeClasses(dialect string) int {
	seen := map[string]bool{}
	for _, p := range battery(0, dialect) {
		seen[p.class] = true
	}
	return len(seen)
}

// booleanPairs are a true and a false condition after a value nothing
// matches: an injectable parameter answers them differently.
var booleanPairs = []struct{ yes, no string }{
	{`zzqxq' OR 'ab'='ab`, `zzqxq' OR 'ab'='ba`},
	{`zzqxq" OR "ab"="ab`, `zzqxq" OR "ab"="ba`},
	{`zzqxq%' OR 1=1 -- `, `zzqxq%' AND 1=2 -- `},
	{`0 OR 1=1`, `0 AND 1=2`},
}

// sqliCounted are tables that refused requests write to by design: a
// failed sign-in or password check counts against its limits.
var sqliCounted = map[string]bool{"rate_limits": true}

// dbErrorText is what a database's error says, which no answer may echo.
var dbErrorText = []string{"SQL", "syntax", "sqlite", "SQLite", "MariaDB", "MySQL", `near "`, "Error 1064", "no such column",
	"no such table", "unrecognized token", "SQLSTATE", "database/sql", "gorm"}

type sqliRun struct {
	t                *testing.T
	env              *testEnv
	w                *matrixWorld
	dialect          string
	params           int // parameters probed so far, to rotate the probes
	sent, violations int
}

func (r *sqliRun) fail(format string, args ...any) {
	r.t.Helper()
	r.violations++
	if r.violations <= 40 {
		r.t.Errorf(format, args...)
	}
}

// probeOperation sends every probe to every text parameter of op as who.
func (r *sqliRun) probeOperation(op string, mc matrixCase, who int, targets []sqliTarget) {
	t := r.t
	t.Helper()
	method, _, _ := strings.Cut(op, " ")
	c := r.w.callers[who]
	if mc.Fresh && who != asAnon {
		c = r.w.newCaller(t, who)
	}
	valid := mc.Request(t, r.w, c)
	counts0 := rowCounts(t, r.env.DB)
	start := time.Now()
	base := r.env.send(t, call{Method: method, Path: valid.Path, Body: valid.Body, Token: c.Token, Header: valid.Header})
	baseline := time.Since(start)
	r.sent++
	counts1 := rowCounts(t, r.env.DB)
	succeeded := 0
	for _, tg := range targets {
		send := func(value string) (reply, time.Duration, bool) {
			rq, ok := tg.apply(op, valid, value)
			if !ok {
				return reply{}, 0, false
			}
			start := time.Now()
			got := r.env.send(t, call{Method: method, Path: rq.Path, Body: rq.Body, Token: c.Token, Header: rq.Header})
			r.sent++
			if got.Status < 300 {
				succeeded++ // a probe value some field accepts: its rows are legitimate
			}
			return got, time.Since(start), true
		}
		r.params++
		for _, p := range battery(r.params, r.dialect) {
			got, took, ok := send(p.value)
			if !ok {
				continue
			}
			r.check(op, who, tg, p.value, got)
			if p.class == "time" && took >= baseline+2*time.Second {
				r.fail("%s [%s=%q] as %s: took %s against %s for the valid request (a delay ran in the database?)", op, tg.name, p.value, callerNames[who], took, baseline)
			}
		}
		plain, _, ok := send("zzqxq")
		for k := range perClass {
			bp := booleanPairs[(r.params+k)%len(booleanPairs)]
			if !ok {
				break
			}
			yes, _, _ := send(bp.yes)
			no, _, _ := send(bp.no)
			for _, x := range []struct {
				v string
				g reply
			}{{bp.yes, yes}, {bp.no, no}} {
				r.check(op, who, tg, x.v, x.g)
			}
			if yes.Status != no.Status {
				r.fail("%s [%s] as %s: a true condition answered %d, a false one %d", op, tg.name, callerNames[who], yes.Status, no.Status)
				continue
			}
			ty, okY := resultTotal(yes)
			tn, okN := resultTotal(no)
			tp, okP := resultTotal(plain)
			if okY && okN && (ty != tn || okP && ty > tp) {
				r.fail("%s [%s] as %s: a true condition found %d, a false one %d, the plain value %d", op, tg.name, callerNames[who], ty, tn, tp)
			}
		}
	}
	counts2 := rowCounts(t, r.env.DB)
	for tb, n := range counts2 {
		legit := counts1[tb] - counts0[tb]
		switch {
		case sqliCounted[tb]:
		case n < counts1[tb] && legit >= 0 && method != "DELETE":
			r.fail("%s as %s: the probes removed rows of %s (%d → %d), which the valid request (%d) does not", op, callerNames[who], tb, counts1[tb], n, base.Status)
		case n > counts1[tb] && legit <= 0 && succeeded == 0:
			r.fail("%s as %s: the probes added rows to %s (%d → %d) though none of them succeeded", op, callerNames[who], tb, counts1[tb], n)
		}
	}
}

// check applies the rules every answer must follow.
func (r *sqliRun) check(op string, who int, tg sqliTarget, value string, got reply) {
	r.t.Helper()
	switch {
	case got.Status >= 500:
		r.fail("%s [%s=%q] as %s: answered %d: %.300s", op, tg.name, value, callerNames[who], got.Status, got.Body)
		return
	case got.Status >= 400 && got.Header.Get("Content-Type") != api.ProblemContentType:
		r.fail("%s [%s=%q] as %s: answered %d as %q, not problem+json", op, tg.name, value, callerNames[who], got.Status, got.Header.Get("Content-Type"))
	}
	body := strings.ReplaceAll(string(got.Body), value, "")
	if j, err := json.Marshal(value); err == nil {
		body = strings.ReplaceAll(body, strings.Trim(string(j), `"`), "")
	}
	for _, marker := range dbErrorText {
		if strings.Contains(body, marker) {
			r.fail("%s [%s=%q] as %s: the answer says %q: %.300s", op, tg.name, value, callerNames[who], marker, got.Body)
			return
		}
	}
}

// resultTotal is a list answer's total, when it is one.
func resultTotal(r reply) (int64, bool) {
	if r.Status != 200 {
		return 0, false
	}
	var v struct {
		Total *int64          `json:"total"`
		Items json.RawMessage `json:"items"`
	}
	if json.Unmarshal(r.Body, &v) != nil || v.Total == nil {
		return 0, false
	}
	return *v.Total, true
}

// caseFor is the matrix case that sends op as who: one who gets through
// (2xx), else, for anonymous, one that reaches the handler (not 401/403).
func caseFor(op string, who int) (matrixCase, bool) {
	var fallback *matrixCase
	for i, mc := range matrixCases {
		method, pattern, _ := strings.Cut(mc.Route, " ")
		if method+" "+api.OpenAPIPath(pattern) != op {
			continue
		}
		st := mc.Want.of(who)
		if st >= 200 && st < 300 {
			return mc, true
		}
		if fallback == nil && st != 401 && st != 403 {
			fallback = &matrixCases[i]
		}
	}
	if fallback != nil && who == asAnon {
		return *fallback, true
	}
	if fallback != nil && who == asAdmin {
		return *fallback, true
	}
	return matrixCase{}, false
}

// sqliTarget is one text parameter of an operation.
type sqliTarget struct {
	name string
	in   string   // path, query, header, body
	path []string // body: property names, "[]" for an array's items, "*" for a map's values
}

func targetNames(ts []sqliTarget) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.in+":"+t.name)
	}
	return strings.Join(out, " ")
}

// apply puts value into the parameter of a valid request.
func (tg sqliTarget) apply(op string, valid matrixRequest, value string) (matrixRequest, bool) {
	out := valid
	p, rawQuery, _ := strings.Cut(valid.Path, "?")
	switch tg.in {
	case "path":
		_, oaPath, _ := strings.Cut(op, " ")
		segs, oaSegs := strings.Split(p, "/"), strings.Split(oaPath, "/")
		if len(segs) != len(oaSegs) {
			return out, false
		}
		for i, s := range oaSegs {
			if s == "{"+tg.name+"}" {
				segs[i] = url.PathEscape(value)
			}
		}
		out.Path = strings.Join(segs, "/")
		if rawQuery != "" {
			out.Path += "?" + rawQuery
		}
	case "query":
		q, _ := url.ParseQuery(rawQuery)
		q.Set(tg.name, value)
		out.Path = p + "?" + q.Encode()
	case "header":
		out.Header = map[string]string{}
		for k, v := range valid.Header {
			out.Header[k] = v
		}
		out.Header[tg.name] = value
	case "body":
		obj, ok := jsonObject(valid.Body)
		if !ok {
			if valid.Body != nil {
				return out, false // a CSV, multipart or raw body
			}
			obj = map[string]any{}
		}
		var clone map[string]any
		j, _ := json.Marshal(obj)
		_ = json.Unmarshal(j, &clone)
		out.Body = setAt(clone, tg.path, value)
	}
	return out, true
}

// setAt sets the string leaf at path in v (created where missing) and
// returns v.
func setAt(v any, path []string, value string) any {
	if len(path) == 0 {
		return value
	}
	switch path[0] {
	case "[]":
		arr, _ := v.([]any)
		if len(arr) == 0 {
			arr = []any{nil}
		}
		arr[0] = setAt(arr[0], path[1:], value)
		return arr
	case "*":
		m, _ := v.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		key := "fr"
		if len(m) > 0 {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			key = keys[0]
		}
		m[key] = setAt(m[key], path[1:], value)
		return m
	}
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m[path[0]] = setAt(m[path[0]], path[1:], value)
	return m
}

// specParams are the text parameters of each operation, from the OpenAPI
// file.
type specParams struct {
	byOp map[string][]sqliTarget
}

func (s specParams) targets(op string) []sqliTarget { return s.byOp[op] }

type oaSchema struct {
	Ref                  string               `yaml:"$ref"`
	Type                 any                  `yaml:"type"`
	Properties           map[string]*oaSchema `yaml:"properties"`
	Items                *oaSchema            `yaml:"items"`
	AdditionalProperties yaml.Node            `yaml:"additionalProperties"`
	AllOf                []*oaSchema          `yaml:"allOf"`
	OneOf                []*oaSchema          `yaml:"oneOf"`
	AnyOf                []*oaSchema          `yaml:"anyOf"`
}

func (s *oaSchema) is(kind string) bool {
	switch t := s.Type.(type) {
	case string:
		return t == kind
	case []any:
		for _, x := range t {
			if x == kind {
				return true
			}
		}
	}
	return false
}

type oaParam struct {
	Ref    string    `yaml:"$ref"`
	Name   string    `yaml:"name"`
	In     string    `yaml:"in"`
	Schema *oaSchema `yaml:"schema"`
}

func loadSpecParams(spec []byte) (specParams, error) {
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
		Comps struct {
			Schemas    map[string]*oaSchema `yaml:"schemas"`
			Parameters map[string]*oaParam  `yaml:"parameters"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		return specParams{}, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	resolve := func(s *oaSchema) *oaSchema {
		for s != nil && s.Ref != "" {
			s = doc.Comps.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
		}
		return s
	}
	var leaves func(s *oaSchema, path []string, depth int, out *[][]string)
	leaves = func(s *oaSchema, path []string, depth int, out *[][]string) {
		s = resolve(s)
		if s == nil || depth > 6 {
			return
		}
		if s.is("string") {
			*out = append(*out, append([]string(nil), path...))
			return
		}
		for _, sub := range append(append(append([]*oaSchema(nil), s.AllOf...), s.OneOf...), s.AnyOf...) {
			leaves(sub, path, depth+1, out)
		}
		names := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			leaves(s.Properties[k], append(path, k), depth+1, out)
		}
		if s.Items != nil {
			leaves(s.Items, append(path, "[]"), depth+1, out)
		}
		if s.AdditionalProperties.Kind == yaml.MappingNode {
			var ap oaSchema
			if s.AdditionalProperties.Decode(&ap) == nil {
				leaves(&ap, append(path, "*"), depth+1, out)
			}
		}
	}
	out := specParams{byOp: map[string][]sqliTarget{}}
	for p, methods := range doc.Paths {
		var shared []*oaParam
		if n, ok := methods["parameters"]; ok {
			_ = n.Decode(&shared)
		}
		for m, node := range methods {
			switch m {
			case "get", "post", "put", "patch", "delete":
			default:
				continue
			}
			var op struct {
				Parameters  []*oaParam `yaml:"parameters"`
				RequestBody struct {
					Content map[string]struct {
						Schema *oaSchema `yaml:"schema"`
					} `yaml:"content"`
				} `yaml:"requestBody"`
			}
			if err := node.Decode(&op); err != nil {
				return specParams{}, fmt.Errorf("parse %s %s: %w", m, p, err)
			}
			key := strings.ToUpper(m) + " " + p
			var ts []sqliTarget
			for _, prm := range append(shared, op.Parameters...) {
				if prm.Ref != "" {
					prm = doc.Comps.Parameters[strings.TrimPrefix(prm.Ref, "#/components/parameters/")]
				}
				if prm == nil || prm.Schema == nil || !resolve(prm.Schema).is("string") {
					continue
				}
				ts = append(ts, sqliTarget{name: prm.Name, in: prm.In})
			}
			if c, ok := op.RequestBody.Content["application/json"]; ok {
				var paths [][]string
				leaves(c.Schema, nil, 0, &paths)
				for _, lp := range paths {
					ts = append(ts, sqliTarget{name: strings.Join(lp, "."), in: "body", path: lp})
				}
			}
			out.byOp[key] = ts
		}
	}
	return out, nil
}

// rowCounts counts the rows of every table, in one query.
func rowCounts(t *testing.T, db *database.DB) map[string]int64 {
	t.Helper()
	var parts []string
	for _, tb := range tableNames(t, db) {
		parts = append(parts, fmt.Sprintf("SELECT '%s' AS name, COUNT(*) AS n FROM %s", tb, tb))
	}
	var rows []struct {
		Name string
		N    int64
	}
	if err := db.Raw(strings.Join(parts, " UNION ALL ")).Scan(&rows).Error; err != nil {
		t.Fatalf("count rows: %v", err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Name] = r.N
	}
	return out
}

// tableNames lists the tables, without SQLite's full-text shadow tables
// (products_fts_data…), whose rows come and go as the index merges.
func tableNames(t *testing.T, db *database.DB) []string {
	t.Helper()
	var tables []string
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if db.Dialect != database.SQLite {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name`
	}
	if err := db.Raw(q).Scan(&tables).Error; err != nil {
		t.Fatalf("list tables: %v", err)
	}
	if db.Dialect != database.SQLite {
		return tables
	}
	var virtual []string
	if err := db.Raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'`).Scan(&virtual).Error; err != nil {
		t.Fatalf("list virtual tables: %v", err)
	}
	out := tables[:0]
	for _, tb := range tables {
		shadow := false
		for _, v := range virtual {
			shadow = shadow || strings.HasPrefix(tb, v+"_")
		}
		if !shadow {
			out = append(out, tb)
		}
	}
	return out
}

// schemaDigest is the schema: tables, columns and indexes.
func schemaDigest(t *testing.T, db *database.DB) string {
	t.Helper()
	var rows []string
	q := `SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master ORDER BY type, name`
	if db.Dialect != database.SQLite {
		q = `SELECT CONCAT(table_name, ' ', column_name, ' ', column_type) FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position`
	}
	if err := db.Raw(q).Scan(&rows).Error; err != nil {
		t.Fatalf("read the schema: %v", err)
	}
	return strings.Join(rows, "\n")
}
