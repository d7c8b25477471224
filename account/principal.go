package account

// MemberRole is a member's role in a cooperative.
type MemberRole string

// The member roles.
const (
	MemberManager MemberRole = "manager" // edits the profile, invites members, runs the catalog and orders
	MemberRegular MemberRole = "member"  // an artisan of the cooperative
)

// Valid reports whether r is a member role.
func (r MemberRole) Valid() bool { return r == MemberManager || r == MemberRegular }

// PrincipalLocalsKey is the request-local key under which the HTTP layers
// keep the caller's *Principal once the API middleware has authenticated
// it, so that pages read it without importing the api package.
const PrincipalLocalsKey = "souk.principal"

// Principal is who is calling: a signed-in user with their roles and
// cooperative memberships, as loaded once per request. Its methods are the
// authorization rules of the platform; every transport (API policies, page
// handlers) and every domain package asks them instead of repeating the
// rule. All methods are safe on a nil Principal (an anonymous caller), which
// may do nothing that needs an account.
type Principal struct {
	UserID int64
	Email  string
	Name   string
	Lang   string
	Roles  []Role
	// Memberships maps cooperative id to the caller's role in it.
	Memberships map[int64]MemberRole
	// Session is the session the caller came with (zero for principals
	// built without one).
	Session SessionInfo
}

// HasRole reports whether the caller holds r.
func (p *Principal) HasRole(r Role) bool {
	if p == nil {
		return false
	}
	for _, have := range p.Roles {
		if have == r {
			return true
		}
	}
	return false
}

// HasAnyRole reports whether the caller holds at least one of roles.
func (p *Principal) HasAnyRole(roles ...Role) bool {
	for _, r := range roles {
		if p.HasRole(r) {
			return true
		}
	}
	return false
}

// IsAdmin reports whether the caller is an administrator.
func (p *Principal) IsAdmin() bool { return p.HasRole(RoleAdmin) }

// MemberRoleIn returns the caller's role in a cooperative and whether they
// are a member at all.
func (p *Principal) MemberRoleIn(cooperativeID int64) (MemberRole, bool) {
	if p == nil {
		return "", false
	}
	r, ok := p.Memberships[cooperativeID]
	return r, ok
}

// IsMemberOf reports whether the caller belongs to the cooperative, in any
// role.
func (p *Principal) IsMemberOf(cooperativeID int64) bool {
	_, ok := p.MemberRoleIn(cooperativeID)
	return ok
}

// IsManagerOf reports whether the caller manages the cooperative.
func (p *Principal) IsManagerOf(cooperativeID int64) bool {
	r, ok := p.MemberRoleIn(cooperativeID)
	return ok && r == MemberManager
}

// CanReadCooperative reports whether the caller may see the cooperative's
// private side — its members, drafts, orders, figures, and the cooperative
// itself while it is not verified: its members and administrators.
func (p *Principal) CanReadCooperative(cooperativeID int64) bool {
	return p.IsMemberOf(cooperativeID) || p.IsAdmin()
}

// CanManageCooperative reports whether the caller may change the
// cooperative (profile, members, catalog, certificates, shipping): its
// managers and administrators.
func (p *Principal) CanManageCooperative(cooperativeID int64) bool {
	return p.IsManagerOf(cooperativeID) || p.IsAdmin()
}

// CanCreateCooperative reports whether the caller may register a new
// cooperative: cooperative managers and administrators.
func (p *Principal) CanCreateCooperative() bool {
	return p.HasAnyRole(RoleCooperative, RoleAdmin)
}

// CanSeeCooperative reports whether the caller may see a cooperative's
// public page: anyone once it is verified, its members and administrators
// before (and while suspended).
func (p *Principal) CanSeeCooperative(c Cooperative) bool {
	return c.Status == StatusVerified || p.CanReadCooperative(c.ID)
}

// CanModerate reports whether the caller may verify or suspend
// cooperatives and create accounts with any role.
func (p *Principal) CanModerate() bool { return p.IsAdmin() }

// CooperativeIDs returns the ids of the cooperatives the caller belongs to.
func (p *Principal) CooperativeIDs() []int64 {
	if p == nil {
		return nil
	}
	ids := make([]int64, 0, len(p.Memberships))
	for id := range p.Memberships {
		ids = append(ids, id)
	}
	return ids
}
