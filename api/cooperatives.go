package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
)

func (s *Server) cooperativeRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/cooperatives", Public, s.listCooperatives},
		{"POST", "/api/v1/cooperatives", RoleIs(account.RoleCooperative, account.RoleAdmin), s.createCooperative},
		{"GET", "/api/v1/cooperatives/:slug", Public, s.showCooperative},
		{"PATCH", "/api/v1/cooperatives/:id", CooperativeManager("id"), s.updateCooperative},
		{"GET", "/api/v1/cooperatives/:id/members", CooperativeMember("id"), s.listMembers},
		{"POST", "/api/v1/cooperatives/:id/members", CooperativeManager("id"), s.inviteMember},
		{"POST", "/api/v1/invitations/:token/accept", Authenticated, s.acceptInvitation},
		{"POST", "/api/v1/admin/cooperatives/:id/verify", AdminOnly, s.verifyCooperative},
		{"POST", "/api/v1/admin/cooperatives/:id/suspend", AdminOnly, s.suspendCooperative},
	}
}

// listAnswer is the envelope of every list.
type listAnswer[T any] struct {
	Items   []T   `json:"items"`
	Total   int64 `json:"total"`
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
}

// pageQuery reads page and per_page from the query string (absent: the
// defaults of account.Page) and names either in a field error when it is
// not a whole number in range.
func pageQuery(c *fiber.Ctx, f *errs.Fields) account.Page {
	var pg account.Page
	for _, q := range []struct {
		name string
		dst  *int
	}{{"page", &pg.Page}, {"per_page", &pg.PerPage}} {
		v := c.Query(q.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			f.Add(q.name, "must be a whole number")
		case n < 1 && q.name == "page":
			f.Add(q.name, "must be 1 or more")
		case n < 1:
			f.Add(q.name, "must be from 1 to %d", account.MaxPerPage)
		default:
			*q.dst = n
		}
	}
	pg.Check(f)
	return pg
}

// listCooperatives lists verified cooperatives (administrators may ask for
// another status), filtered by commune and craft.
func (s *Server) listCooperatives(c *fiber.Ctx) error {
	var f errs.Fields
	pg := pageQuery(c, &f)
	if err := f.Err(); err != nil {
		return err
	}
	items, total, err := s.deps.Accounts.FindCooperatives(c.UserContext(), principal(c), account.CooperativeFilter{
		Status: account.CooperativeStatus(c.Query("status")), Commune: c.Query("commune"), Craft: c.Query("craft"), Page: pg,
	})
	if err != nil {
		return err
	}
	return c.JSON(listAnswer[account.Cooperative]{Items: items, Total: total, Page: pg.Page, PerPage: pg.PerPage})
}

// showCooperative answers one cooperative by slug, if the caller may see it.
func (s *Server) showCooperative(c *fiber.Ctx) error {
	coop, err := s.deps.Accounts.FindCooperativeBySlug(c.UserContext(), principal(c), c.Params("slug"))
	if err != nil {
		return err
	}
	return c.JSON(coop)
}

type cooperativeRequest struct {
	Name           string                 `json:"name"`
	Commune        string                 `json:"commune"`
	Crafts         []string               `json:"crafts"`
	RegistryNumber string                 `json:"registry_number"`
	ICE            string                 `json:"ice"`
	Story          map[string]string      `json:"story"`
	Contact        *account.Contact       `json:"contact"`
	LogoKey        *string                `json:"logo_key"`
	MemberFigures  *account.MemberFigures `json:"member_figures"`
}

// createCooperative registers a cooperative managed by the caller.
func (s *Server) createCooperative(c *fiber.Ctx) error {
	var in cooperativeRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	ci := account.CooperativeInput{Name: in.Name, Commune: in.Commune, Crafts: in.Crafts, RegistryNumber: in.RegistryNumber,
		ICE: in.ICE, Story: in.Story, LogoKey: in.LogoKey}
	if in.Contact != nil {
		ci.Contact = *in.Contact
	}
	if in.MemberFigures != nil {
		ci.MemberFigures = *in.MemberFigures
	}
	coop, err := s.deps.Accounts.CreateCooperative(c.UserContext(), principal(c), ci)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(coop)
}

type cooperativePatchRequest struct {
	Name           *string                `json:"name"`
	Commune        *string                `json:"commune"`
	Crafts         *[]string              `json:"crafts"`
	RegistryNumber *string                `json:"registry_number"`
	ICE            *string                `json:"ice"`
	Story          *map[string]string     `json:"story"`
	Contact        *account.Contact       `json:"contact"`
	LogoKey        *string                `json:"logo_key"`
	MemberFigures  *account.MemberFigures `json:"member_figures"`
	RIB            *string                `json:"rib"`
}

// updateCooperative changes a cooperative's profile.
func (s *Server) updateCooperative(c *fiber.Ctx) error {
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	var in cooperativePatchRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	coop, err := s.deps.Accounts.UpdateCooperative(c.UserContext(), principal(c), id, account.CooperativePatch{
		Name: in.Name, Commune: in.Commune, Crafts: in.Crafts, RegistryNumber: in.RegistryNumber, ICE: in.ICE,
		Story: in.Story, Contact: in.Contact, LogoKey: in.LogoKey, MemberFigures: in.MemberFigures, RIB: in.RIB,
	})
	if err != nil {
		return err
	}
	return c.JSON(coop)
}

// membersAnswer is the list of a cooperative's members, with its pending
// invitations for managers.
type membersAnswer struct {
	listAnswer[account.Member]
	PendingInvitations []account.Invitation `json:"pending_invitations,omitempty"`
}

// listMembers lists a cooperative's members.
func (s *Server) listMembers(c *fiber.Ctx) error {
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	var f errs.Fields
	pg := pageQuery(c, &f)
	if err := f.Err(); err != nil {
		return err
	}
	p := principal(c)
	items, total, err := s.deps.Accounts.ListMembers(c.UserContext(), p, id, pg)
	if err != nil {
		return err
	}
	out := membersAnswer{listAnswer: listAnswer[account.Member]{Items: items, Total: total, Page: pg.Page, PerPage: pg.PerPage}}
	if p.CanManageCooperative(id) {
		if out.PendingInvitations, err = s.deps.Accounts.PendingInvitations(c.UserContext(), p, id); err != nil {
			return err
		}
	}
	return c.JSON(out)
}

type inviteRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// inviteMember e-mails an invitation to join the cooperative.
func (s *Server) inviteMember(c *fiber.Ctx) error {
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	var in inviteRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	inv, err := s.deps.Accounts.InviteMember(c.UserContext(), principal(c), id, in.Email, account.MemberRole(in.Role))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"invitation": inv})
}

// acceptInvitation makes the caller a member of the inviting cooperative.
func (s *Server) acceptInvitation(c *fiber.Ctx) error {
	m, err := s.deps.Accounts.AcceptInvitation(c.UserContext(), principal(c), c.Params("token"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"membership": m})
}

// verifyCooperative makes a cooperative public.
func (s *Server) verifyCooperative(c *fiber.Ctx) error {
	return s.setCooperativeStatus(c, account.StatusVerified)
}

// suspendCooperative hides a cooperative from the public.
func (s *Server) suspendCooperative(c *fiber.Ctx) error {
	return s.setCooperativeStatus(c, account.StatusSuspended)
}

func (s *Server) setCooperativeStatus(c *fiber.Ctx, status account.CooperativeStatus) error {
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	coop, err := s.deps.Accounts.SetCooperativeStatus(c.UserContext(), principal(c), id, status)
	if err != nil {
		return err
	}
	return c.JSON(coop)
}
