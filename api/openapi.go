package api

import (
	_ "embed"
	"fmt"
	"html"
	"sort"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPISpec returns the OpenAPI document served at /api/openapi.yaml.
func OpenAPISpec() []byte { return openAPISpec }

func serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "application/yaml; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(openAPISpec)
}

// Operation is one documented operation of the OpenAPI file.
type Operation struct {
	Method, Path, OperationID, Summary string
	Responses                          []string
}

// Operations parses the OpenAPI file into its operations, sorted by path.
func Operations() ([]Operation, error) {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string               `yaml:"operationId"`
			Summary     string               `yaml:"summary"`
			Responses   map[string]yaml.Node `yaml:"responses"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPISpec, &doc); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	var ops []Operation
	for path, methods := range doc.Paths {
		for m, op := range methods {
			switch m {
			case "get", "post", "put", "patch", "delete":
			default:
				continue
			}
			o := Operation{Method: strings.ToUpper(m), Path: path, OperationID: op.OperationID, Summary: op.Summary}
			for code := range op.Responses {
				o.Responses = append(o.Responses, code)
			}
			sort.Strings(o.Responses)
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	return ops, nil
}

var docsPage = sync.OnceValues(func() ([]byte, error) {
	ops, err := Operations()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
		`<title>Souk API</title><link rel="stylesheet" href="/static/app.css"></head><body><main><h1>Souk API</h1>` +
		`<p>JSON under <code>/api/v1</code>. The contract is the <a href="/api/openapi.yaml">OpenAPI 3.1 file</a>; errors are ` +
		`<code>application/problem+json</code> (RFC 9457).</p><table><thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Answers</th></tr></thead><tbody>`)
	for _, o := range ops {
		fmt.Fprintf(&b, `<tr id="%s"><td><code>%s</code></td><td><code>%s</code></td><td>%s</td><td>%s</td></tr>`,
			html.EscapeString(o.OperationID), o.Method, html.EscapeString(o.Path), html.EscapeString(o.Summary), strings.Join(o.Responses, " "))
	}
	b.WriteString(`</tbody></table></main></body></html>`)
	return []byte(b.String()), nil
})

func serveDocs(c *fiber.Ctx) error {
	page, err := docsPage()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(page)
}
