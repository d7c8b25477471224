package api

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
)

// The policies a route can declare, beside Public (routes.go). Each is a
// thin check of the caller loaded by the authenticate middleware against a
// rule of account.Principal; the rule itself lives in the account package.
// An anonymous caller is refused with 401, a signed-in one without the right
// with 403.

// errSignIn is the answer to an anonymous caller of a route that needs one.
func errSignIn() error {
	return errs.E(errs.Unauthorized, "sign in first: send Authorization: Bearer <token> or the session cookie")
}

// Authenticated lets any signed-in user call the route.
var Authenticated = Policy{Name: "authenticated", Check: func(c *fiber.Ctx) error {
	if principal(c) == nil {
		return errSignIn()
	}
	return nil
}}

// RoleIs lets a signed-in user holding at least one of roles call the
// route. Administrators pass only when RoleAdmin is listed.
func RoleIs(roles ...account.Role) Policy {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return Policy{Name: "role:" + strings.Join(names, "|"), Check: func(c *fiber.Ctx) error {
		p := principal(c)
		if p == nil {
			return errSignIn()
		}
		if !p.HasAnyRole(roles...) {
			return errs.E(errs.Forbidden, "this needs the role %s", strings.Join(names, " or "))
		}
		return nil
	}}
}

// AdminOnly lets administrators call the route.
var AdminOnly = RoleIs(account.RoleAdmin)

// CooperativeMember lets the members of the cooperative whose id is in the
// route parameter param (any role), and administrators, call the route
// (account.Principal.CanReadCooperative).
func CooperativeMember(param string) Policy {
	return Policy{Name: "cooperative-member(:" + param + ")", Check: func(c *fiber.Ctx) error {
		p := principal(c)
		if p == nil {
			return errSignIn()
		}
		id, err := cooperativeParam(c, param)
		if err != nil {
			return err
		}
		if !p.CanReadCooperative(id) {
			return errs.E(errs.Forbidden, "only the cooperative's members may do this")
		}
		return nil
	}}
}

// CooperativeManager lets the managers of the cooperative whose id is in
// the route parameter param, and administrators, call the route
// (account.Principal.CanManageCooperative).
func CooperativeManager(param string) Policy {
	return Policy{Name: "cooperative-manager(:" + param + ")", Check: func(c *fiber.Ctx) error {
		p := principal(c)
		if p == nil {
			return errSignIn()
		}
		id, err := cooperativeParam(c, param)
		if err != nil {
			return err
		}
		if !p.CanManageCooperative(id) {
			return errs.E(errs.Forbidden, "only the cooperative's managers may do this")
		}
		return nil
	}}
}

// cooperativeParam reads a cooperative id from a route parameter; anything
// but a positive integer names no cooperative.
func cooperativeParam(c *fiber.Ctx, param string) (int64, error) {
	return idParam(c, param, "no such cooperative")
}

// idParam reads a positive integer id from a route parameter, or answers
// 404 with msg.
func idParam(c *fiber.Ctx, param, msg string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(param), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "%s", msg)
	}
	return id, nil
}
