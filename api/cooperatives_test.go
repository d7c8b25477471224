package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database/dbtest"
)

// A cooperative's life through the API: registered pending by its manager,
// hidden until an administrator verifies it, edited, joined by invitation,
// suspended.
func TestCooperativeLifecycle(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		env := startEnv(t, envOptions{Dialect: dialect})
		mgr := env.signUp(t, "gerante@anzi.ma", account.RoleCooperative)
		if _, err := env.Accounts.CreateAdmin(t.Context(), "admin@souk.test", "Admin", testPassword); err != nil {
			t.Fatal(err)
		}
		var adm sessionReply
		env.send(t, call{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": "admin@souk.test", "password": testPassword}}).decode(t, &adm)

		r := env.send(t, call{Method: "POST", Path: "/api/v1/cooperatives", Token: mgr.Token, Body: map[string]any{
			"name": "Coopérative des Potières d'Anzi", "commune": "Anzi", "crafts": []string{"pottery"},
			"registry_number": "RC 1234", "ice": "001525987000071",
			"story":          map[string]string{"fr": "Fondée par vingt potières.", "ar": "أسستها عشرون خزافة."},
			"contact":        map[string]string{"email": "contact@anzi.ma", "phone": "+212 528 000 000"},
			"member_figures": map[string]any{"women": 20, "men": 2, "with_disabilities": 3},
		}})
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var coop account.Cooperative
		r.decode(t, &coop)
		if coop.ID == 0 || coop.Slug != "cooperative-des-potieres-danzi" || coop.Status != account.StatusPending ||
			coop.MemberFigures == nil || *coop.MemberFigures.Women != 20 || coop.Story["ar"] == "" {
			t.Fatalf("created %s", r.Body)
		}
		byID := fmt.Sprintf("/api/v1/cooperatives/%d", coop.ID)
		bySlug := "/api/v1/cooperatives/" + coop.Slug

		// Pending: hidden from the public, seen by its manager.
		if r := env.send(t, call{Method: "GET", Path: bySlug}); r.Status != 404 {
			t.Fatalf("anonymous sees a pending cooperative: %d", r.Status)
		}
		if r := env.send(t, call{Method: "GET", Path: bySlug, Token: mgr.Token}); r.Status != 200 {
			t.Fatalf("manager: %d", r.Status)
		}
		var list struct {
			Items   []account.Cooperative `json:"items"`
			Total   int64                 `json:"total"`
			Page    int                   `json:"page"`
			PerPage int                   `json:"per_page"`
		}
		env.send(t, call{Method: "GET", Path: "/api/v1/cooperatives"}).decode(t, &list)
		if list.Total != 0 || list.Items == nil || list.Page != 1 || list.PerPage != 20 {
			t.Fatalf("public list before verification: %+v", list)
		}
		if r := env.send(t, call{Method: "GET", Path: "/api/v1/cooperatives?status=pending", Token: mgr.Token}); r.Status != 403 {
			t.Fatalf("manager lists pending: %d", r.Status)
		}
		env.send(t, call{Method: "GET", Path: "/api/v1/cooperatives?status=pending", Token: adm.Token}).decode(t, &list)
		if list.Total != 1 {
			t.Fatalf("admin lists pending: %+v", list)
		}

		// Verified: public, without the private figures.
		if r := env.send(t, call{Method: "POST", Path: byIDAdmin(coop.ID, "verify"), Token: adm.Token}); r.Status != 200 ||
			!strings.Contains(string(r.Body), `"status":"verified"`) {
			t.Fatalf("verify: %d %s", r.Status, r.Body)
		}
		r = env.send(t, call{Method: "GET", Path: bySlug})
		if r.Status != 200 || strings.Contains(string(r.Body), "member_figures") {
			t.Fatalf("public view: %d %s", r.Status, r.Body)
		}
		list.Items = nil // decode into fresh items, not over the administrator's view
		env.send(t, call{Method: "GET", Path: "/api/v1/cooperatives?craft=pottery&commune=Anzi&per_page=5"}).decode(t, &list)
		if list.Total != 1 || len(list.Items) != 1 || list.PerPage != 5 || list.Items[0].MemberFigures != nil {
			t.Fatalf("public list: %+v", list)
		}

		// Edited by its manager; the slug stays.
		r = env.send(t, call{Method: "PATCH", Path: byID, Token: mgr.Token, Body: map[string]any{"name": "Potières d'Anzi", "crafts": []string{"pottery", "weaving"}}})
		var edited account.Cooperative
		r.decode(t, &edited)
		if r.Status != 200 || edited.Name != "Potières d'Anzi" || edited.Slug != coop.Slug || !cmp.Equal([]string(edited.Crafts), []string{"pottery", "weaving"}) {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		before := env.countRows(t, "cooperatives")
		r = env.send(t, call{Method: "PATCH", Path: byID, Token: mgr.Token, Body: map[string]any{"ice": "12", "crafts": []string{}, "story": map[string]string{"es": "hola"}}})
		if p := r.problem(t); r.Status != 422 || !fieldsOf(p).has("ice") || !fieldsOf(p).has("crafts") || !fieldsOf(p).has("story.es") {
			t.Fatalf("bad patch: %d %s", r.Status, r.Body)
		}
		if r := env.send(t, call{Method: "GET", Path: bySlug}); !strings.Contains(string(r.Body), `"name":"Potières d'Anzi"`) {
			t.Fatalf("a refused patch changed the cooperative: %s", r.Body)
		}
		if after := env.countRows(t, "cooperatives"); !cmp.Equal(before, after) {
			t.Fatalf("rows %v → %v", before, after)
		}

		// Joined by invitation.
		art := env.signUp(t, "Hafsa@anzi.ma", account.RoleArtisan)
		r = env.send(t, call{Method: "POST", Path: byID + "/members", Token: mgr.Token, Body: map[string]string{"email": "hafsa@ANZI.ma"}})
		if r.Status != 201 || !strings.Contains(string(r.Body), `"role":"member"`) {
			t.Fatalf("invite: %d %s", r.Status, r.Body)
		}
		msg := env.mailTo(t, "hafsa@ANZI.ma")
		if !strings.Contains(msg, "Potières d'Anzi") {
			t.Fatalf("invitation mail does not name the cooperative:\n%s", msg)
		}
		token := tokenIn(t, msg)
		var members struct {
			Items   []account.Member     `json:"items"`
			Total   int64                `json:"total"`
			Pending []account.Invitation `json:"pending_invitations"`
		}
		env.send(t, call{Method: "GET", Path: byID + "/members", Token: mgr.Token}).decode(t, &members)
		if members.Total != 1 || len(members.Pending) != 1 || members.Pending[0].Email != "hafsa@ANZI.ma" {
			t.Fatalf("members before accepting: %+v", members)
		}
		if r := env.send(t, call{Method: "GET", Path: byID + "/members", Token: art.Token}); r.Status != 403 {
			t.Fatalf("non-member lists members: %d", r.Status)
		}
		r = env.send(t, call{Method: "POST", Path: "/api/v1/invitations/" + token + "/accept", Token: art.Token})
		if r.Status != 200 || !strings.Contains(string(r.Body), fmt.Sprintf(`"cooperative_id":%d`, coop.ID)) {
			t.Fatalf("accept: %d %s", r.Status, r.Body)
		}
		if r := env.send(t, call{Method: "POST", Path: "/api/v1/invitations/" + token + "/accept", Token: art.Token}); r.Status != 404 {
			t.Fatalf("accepted twice: %d %s", r.Status, r.Body)
		}
		members.Items, members.Pending = nil, nil
		env.send(t, call{Method: "GET", Path: byID + "/members", Token: art.Token}).decode(t, &members)
		if members.Total != 2 || members.Items[0].Role != account.MemberManager || members.Items[1].Email != "" || members.Pending != nil {
			t.Fatalf("members as a member: %+v", members)
		}
		r = env.send(t, call{Method: "GET", Path: "/api/v1/me", Token: art.Token})
		if !strings.Contains(string(r.Body), fmt.Sprintf(`"cooperative_id":%d`, coop.ID)) {
			t.Fatalf("me after joining: %s", r.Body)
		}
		if r := env.send(t, call{Method: "POST", Path: byID + "/members", Token: mgr.Token, Body: map[string]string{"email": "hafsa@anzi.ma"}}); r.Status != 409 {
			t.Fatalf("invite a member again: %d %s", r.Status, r.Body)
		}

		// Suspended: hidden again.
		if r := env.send(t, call{Method: "POST", Path: byIDAdmin(coop.ID, "suspend"), Token: adm.Token}); r.Status != 200 {
			t.Fatalf("suspend: %d", r.Status)
		}
		if r := env.send(t, call{Method: "GET", Path: bySlug}); r.Status != 404 {
			t.Fatalf("anonymous sees a suspended cooperative: %d", r.Status)
		}
		if r := env.send(t, call{Method: "GET", Path: bySlug, Token: art.Token}); r.Status != 200 {
			t.Fatalf("member of a suspended cooperative: %d", r.Status)
		}
		if r := env.send(t, call{Method: "POST", Path: byIDAdmin(999999, "verify"), Token: adm.Token}); r.Status != 404 {
			t.Fatalf("verify a missing cooperative: %d", r.Status)
		}
	})
}

func byIDAdmin(id int64, action string) string {
	return fmt.Sprintf("/api/v1/admin/cooperatives/%d/%s", id, action)
}

// Lists validate page and per_page and name them.
func TestCooperativeListPaging(t *testing.T) {
	env := startEnv(t, envOptions{})
	tests := []struct {
		query string
		want  int
		field string
	}{
		{"", 200, ""},
		{"?page=2&per_page=100", 200, ""},
		{"?per_page=101", 422, "per_page"},
		{"?per_page=0", 422, "per_page"},
		{"?page=0", 422, "page"},
		{"?page=abc", 422, "page"},
		{"?per_page=1e3", 422, "per_page"},
		{"?craft=Not%20A%20Slug", 422, "craft"},
		{"?status=deleted", 422, "status"},
	}
	for _, tt := range tests {
		r := env.send(t, call{Method: "GET", Path: "/api/v1/cooperatives" + tt.query})
		if r.Status != tt.want {
			t.Errorf("%s: %d, want %d: %s", tt.query, r.Status, tt.want, r.Body)
			continue
		}
		if tt.field != "" && !fieldsOf(r.problem(t)).has(tt.field) {
			t.Errorf("%s: problem does not name %s: %s", tt.query, tt.field, r.Body)
		}
	}
	if r := env.send(t, call{Method: "GET", Path: "/api/v1/cooperatives/No_Such!"}); r.Status != 404 {
		t.Errorf("malformed slug: %d", r.Status)
	}
}

// Creating a cooperative with bad input writes nothing.
func TestCreateCooperativeRejectsBadInput(t *testing.T) {
	env := startEnv(t, envOptions{})
	mgr := env.signUp(t, "m@souk.test", account.RoleCooperative)
	tables := []string{"cooperatives", "cooperative_members"}
	tests := []struct {
		name   string
		body   any
		status int
		fields []string
	}{
		{"ErrMissing", map[string]any{}, 422, []string{"name", "commune", "crafts"}},
		{"ErrICE", map[string]any{"name": "X", "commune": "Tiznit", "crafts": []string{"pottery"}, "ice": "ABC"}, 422, []string{"ice"}},
		{"ErrFigures", map[string]any{"name": "X", "commune": "Tiznit", "crafts": []string{"pottery"}, "member_figures": map[string]int{"women": -2}}, 422, []string{"member_figures.women"}},
		{"ErrFiguresType", `{"name":"X","commune":"Tiznit","crafts":["pottery"],"member_figures":{"women":"many"}}`, 422, []string{"member_figures.women"}},
		{"ErrStatusNotSettable", map[string]any{"name": "X", "commune": "Tiznit", "crafts": []string{"pottery"}, "status": "verified"}, 422, []string{"status"}},
		{"ErrMalformed", `{"name": "X",`, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := env.countRows(t, tables...)
			r := env.send(t, call{Method: "POST", Path: "/api/v1/cooperatives", Token: mgr.Token, Body: tt.body})
			if r.Status != tt.status {
				t.Fatalf("%d, want %d: %s", r.Status, tt.status, r.Body)
			}
			p := r.problem(t)
			for _, f := range tt.fields {
				if !fieldsOf(p).has(f) {
					t.Errorf("problem does not name %s: %s", f, r.Body)
				}
			}
			if after := env.countRows(t, tables...); !cmp.Equal(before, after) {
				t.Errorf("rows %v → %v", before, after)
			}
		})
	}
}
