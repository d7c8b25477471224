package account

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// User is a person with an account.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Phone     string    `json:"phone"`
	Lang      string    `json:"lang"`
	Roles     []Role    `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
}

// HasRole reports whether the user holds r.
func (u User) HasRole(r Role) bool {
	for _, have := range u.Roles {
		if have == r {
			return true
		}
	}
	return false
}

// userRow is a row of users.
type userRow struct {
	ID           int64 `gorm:"primaryKey"`
	Email        string
	EmailNorm    string
	Name         string
	Phone        string
	Lang         string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) user(roles []Role) User {
	return User{ID: r.ID, Email: r.Email, Name: r.Name, Phone: r.Phone, Lang: r.Lang, Roles: roles, CreatedAt: r.CreatedAt}
}

type userRoleRow struct {
	UserID int64 `gorm:"primaryKey"`
	Role   Role  `gorm:"primaryKey"`
}

func (userRoleRow) TableName() string { return "user_roles" }

// NormalizeEmail is the form an address is compared and stored unique in:
// trimmed and lower-cased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// checkEmail validates an address and names field in the error.
func checkEmail(f *errs.Fields, field, email string) {
	email = strings.TrimSpace(email)
	if email == "" {
		f.Add(field, "is required")
		return
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email || len(email) > 254 {
		f.Add(field, "is not a valid e-mail address")
		return
	}
	_, domain, _ := strings.Cut(email, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		f.Add(field, "is not a valid e-mail address")
	}
}

// checkName validates a person's or organisation's name.
func checkName(f *errs.Fields, field, name string, maxLen int) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		f.Add(field, "is required")
	case utf8.RuneCountInString(name) > maxLen:
		f.Add(field, "must be at most %d characters long", maxLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		f.Add(field, "must not contain control characters")
	}
}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{4,24}$`)

// checkPhone validates an optional phone number: digits with an optional
// leading +, spaces, dots, dashes or parentheses; 6 to 15 digits.
func checkPhone(f *errs.Fields, field, phone string) {
	phone = strings.TrimSpace(phone)
	if phone == "" {
		return
	}
	digits := 0
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if !phonePattern.MatchString(phone) || digits < 6 || digits > 15 {
		f.Add(field, "is not a valid phone number (e.g. +212 600 000000)")
	}
}

func checkLang(f *errs.Fields, field, lang string) {
	if lang != "" && !validLang(lang) {
		f.Add(field, "must be one of ar, fr, en")
	}
}

// NewUser is the input of Register, CreateUser and CreateAdmin.
type NewUser struct {
	Email    string
	Password string
	Name     string
	Phone    string
	Lang     string // ar, fr or en; fr when empty
	Roles    []Role
}

// SignUpRoles are the roles a person may pick when signing up; admins are
// made only by another admin or by CreateAdmin.
var SignUpRoles = []Role{RoleBuyer, RoleArtisan, RoleCooperative}

// Registration is the input of Register: a sign-up from the public site.
type Registration struct {
	Email    string
	Password string
	Name     string
	Role     string // buyer, artisan or cooperative
	Phone    string
	Lang     string
	// IP and UserAgent identify the client for the sign-up rate limit and
	// the session. An empty IP skips the per-IP limit (trusted callers only).
	IP        string
	UserAgent string
}

// Register signs a person up with one role and opens a session for them.
// It returns errs.Invalid for bad fields (role "admin" included),
// errs.Conflict when the e-mail is taken and errs.RateLimited when the IP
// has signed up too often.
func (s *Service) Register(ctx context.Context, in Registration) (User, NewSession, error) {
	var f errs.Fields
	role := Role(strings.TrimSpace(in.Role))
	switch {
	case in.Role == "":
		f.Add("role", "is required")
	case role == RoleBuyer || role == RoleArtisan || role == RoleCooperative:
	default:
		f.Add("role", "must be one of buyer, artisan, cooperative")
	}
	nu := NewUser{Email: in.Email, Password: in.Password, Name: in.Name, Phone: in.Phone, Lang: in.Lang, Roles: []Role{role}}
	if err := s.checkNewUser(&f, nu); err != nil {
		return User{}, NewSession{}, err
	}
	if in.IP != "" {
		if err := s.hit(ctx, "signup:ip:"+in.IP, s.limits.SignUpPerIP); err != nil {
			return User{}, NewSession{}, err
		}
	}
	u, err := s.createUser(ctx, nu)
	if err != nil {
		return User{}, NewSession{}, err
	}
	sess, err := s.openSession(ctx, u.ID, in.IP, in.UserAgent)
	if err != nil {
		return User{}, NewSession{}, err
	}
	return u, sess, nil
}

// CreateAdmin creates an administrator. It is for trusted callers (the
// `souk admin create` command, the demo seed) and checks no principal. It
// returns errs.Invalid for bad fields and errs.Conflict when the e-mail is
// taken.
func (s *Service) CreateAdmin(ctx context.Context, email, name, password string) (User, error) {
	nu := NewUser{Email: email, Name: name, Password: password, Roles: []Role{RoleAdmin}}
	var f errs.Fields
	if err := s.checkNewUser(&f, nu); err != nil {
		return User{}, err
	}
	return s.createUser(ctx, nu)
}

// CreateUser lets an administrator create an account with any roles,
// administrators included. It returns errs.Forbidden unless p is an admin,
// errs.Invalid for bad fields and errs.Conflict when the e-mail is taken.
func (s *Service) CreateUser(ctx context.Context, p *Principal, nu NewUser) (User, error) {
	if !p.IsAdmin() {
		return User{}, errs.E(errs.Forbidden, "only an administrator may create accounts")
	}
	var f errs.Fields
	if len(nu.Roles) == 0 {
		f.Add("roles", "must name at least one role")
	}
	for i, r := range nu.Roles {
		if !r.Valid() {
			f.Add(fmt.Sprintf("roles[%d]", i), "must be one of buyer, artisan, cooperative, admin")
		}
	}
	if err := s.checkNewUser(&f, nu); err != nil {
		return User{}, err
	}
	return s.createUser(ctx, nu)
}

// checkNewUser adds the field errors of nu to f and returns f.Err().
func (s *Service) checkNewUser(f *errs.Fields, nu NewUser) error {
	checkEmail(f, "email", nu.Email)
	if err := CheckPassword("password", nu.Password, nu.Email); err != nil {
		*f = append(*f, errs.As(err).Fields...)
	}
	checkName(f, "name", nu.Name, 200)
	checkPhone(f, "phone", nu.Phone)
	checkLang(f, "lang", nu.Lang)
	return f.Err()
}

// createUser stores a validated new user with their roles (and an empty
// artisan profile for artisans) in one transaction.
func (s *Service) createUser(ctx context.Context, nu NewUser) (User, error) {
	hash, err := s.hash(ctx, nu.Password)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	now := s.clock()
	lang := nu.Lang
	if lang == "" {
		lang = "fr"
	}
	roles := dedupeRoles(nu.Roles)
	row := userRow{
		Email: strings.TrimSpace(nu.Email), EmailNorm: NormalizeEmail(nu.Email), Name: strings.TrimSpace(nu.Name),
		Phone: strings.TrimSpace(nu.Phone), Lang: lang, PasswordHash: hash, CreatedAt: now, UpdatedAt: now,
	}
	err = s.db.Transact(ctx, func(tx *gorm.DB) error {
		row.ID = 0
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		for _, r := range roles {
			if err := tx.Create(&userRoleRow{UserID: row.ID, Role: r}).Error; err != nil {
				return err
			}
		}
		for _, r := range roles {
			if r == RoleArtisan {
				return tx.Create(&artisanRow{UserID: row.ID, Trades: Slugs{}, CreatedAt: now, UpdatedAt: now}).Error
			}
		}
		return nil
	})
	if err != nil && database.IsDuplicate(err) {
		return User{}, &errs.Error{Code: errs.Conflict, Message: "an account already uses this e-mail address",
			Fields: []errs.FieldError{{Field: "email", Message: "is already registered"}}, Err: err}
	}
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", row.EmailNorm, err)
	}
	return row.user(roles), nil
}

func dedupeRoles(in []Role) []Role {
	seen := map[Role]bool{}
	var out []Role
	for _, r := range in {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// FindUser returns the user with id, or errs.NotFound.
func (s *Service) FindUser(ctx context.Context, id int64) (User, error) {
	var row userRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return User{}, fmt.Errorf("find user %d: %w", id, database.Translate(err))
	}
	roles, err := s.rolesOf(ctx, s.db.WithContext(ctx), id)
	if err != nil {
		return User{}, err
	}
	return row.user(roles), nil
}

// FindUserByEmail returns the user with the address (compared without
// case), or errs.NotFound.
func (s *Service) FindUserByEmail(ctx context.Context, email string) (User, error) {
	var row userRow
	if err := s.db.WithContext(ctx).Where("email_norm = ?", NormalizeEmail(email)).Take(&row).Error; err != nil {
		return User{}, fmt.Errorf("find user by e-mail: %w", database.Translate(err))
	}
	roles, err := s.rolesOf(ctx, s.db.WithContext(ctx), row.ID)
	if err != nil {
		return User{}, err
	}
	return row.user(roles), nil
}

func (s *Service) rolesOf(ctx context.Context, tx *gorm.DB, userID int64) ([]Role, error) {
	var roles []Role
	if err := tx.Model(&userRoleRow{}).Where("user_id = ?", userID).Order("role").Pluck("role", &roles).Error; err != nil {
		return nil, fmt.Errorf("roles of user %d: %w", userID, database.Translate(err))
	}
	if roles == nil {
		roles = []Role{}
	}
	return roles, nil
}

// ProfilePatch changes a user's own profile; nil fields stay as they are.
type ProfilePatch struct {
	Name  *string
	Phone *string
	Lang  *string
	// Artisan changes the artisan profile; only for artisans.
	Artisan *ArtisanPatch
}

// UpdateProfile changes the caller's own profile. It returns errs.Invalid
// for bad fields (an artisan patch from a non-artisan included).
func (s *Service) UpdateProfile(ctx context.Context, p *Principal, patch ProfilePatch) (User, error) {
	if p == nil {
		return User{}, errs.E(errs.Unauthorized, "sign in first")
	}
	var f errs.Fields
	updates := map[string]any{}
	if patch.Name != nil {
		checkName(&f, "name", *patch.Name, 200)
		updates["name"] = strings.TrimSpace(*patch.Name)
	}
	if patch.Phone != nil {
		checkPhone(&f, "phone", *patch.Phone)
		updates["phone"] = strings.TrimSpace(*patch.Phone)
	}
	if patch.Lang != nil {
		if *patch.Lang == "" {
			f.Add("lang", "must be one of ar, fr, en")
		}
		checkLang(&f, "lang", *patch.Lang)
		updates["lang"] = *patch.Lang
	}
	if patch.Artisan != nil {
		if !p.HasRole(RoleArtisan) {
			f.Add("artisan", "only artisans have an artisan profile")
		} else {
			patch.Artisan.check(&f)
		}
	}
	if err := f.Err(); err != nil {
		return User{}, err
	}
	now := s.clock()
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		if len(updates) > 0 {
			updates["updated_at"] = now
			if err := tx.Model(&userRow{}).Where("id = ?", p.UserID).Updates(updates).Error; err != nil {
				return err
			}
		}
		if patch.Artisan != nil {
			return s.saveArtisanProfile(tx, p.UserID, *patch.Artisan, now)
		}
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("update profile of user %d: %w", p.UserID, err)
	}
	return s.FindUser(ctx, p.UserID)
}

// ChangePassword replaces the caller's password after checking the current
// one, and revokes every other session of the caller. Wrong current
// passwords count against the account's login limit. It returns
// errs.Invalid (current_password wrong, new_password too weak) and
// errs.RateLimited.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next string) error {
	if p == nil {
		return errs.E(errs.Unauthorized, "sign in first")
	}
	var f errs.Fields
	if current == "" {
		f.Add("current_password", "is required")
	}
	if err := CheckPassword("new_password", next, p.Email); err != nil {
		f = append(f, errs.As(err).Fields...)
	}
	if err := f.Err(); err != nil {
		return err
	}
	bucket := accountBucket(p.Email)
	if err := s.hit(ctx, bucket, s.limits.LoginPerAccount); err != nil {
		return err
	}
	var row userRow
	if err := s.db.WithContext(ctx).Where("id = ?", p.UserID).Take(&row).Error; err != nil {
		return fmt.Errorf("change password of user %d: %w", p.UserID, database.Translate(err))
	}
	ok, err := s.verify(ctx, current, row.PasswordHash)
	if err != nil {
		return fmt.Errorf("change password of user %d: verify: %w", p.UserID, err)
	}
	if !ok {
		return errs.InvalidField("current_password", "is not your current password")
	}
	s.clearLimit(ctx, bucket)
	return s.setPassword(ctx, p.UserID, next, p.Session.ID)
}

// setPassword stores a new hash and deletes every session of the user but
// keep (0 keeps none), in one transaction.
func (s *Service) setPassword(ctx context.Context, userID int64, password string, keep int64) error {
	hash, err := s.hash(ctx, password)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, err)
	}
	now := s.clock()
	err = s.db.Transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&userRow{}).Where("id = ?", userID).
			Updates(map[string]any{"password_hash": hash, "updated_at": now}).Error; err != nil {
			return err
		}
		return tx.Where("user_id = ? AND id <> ?", userID, keep).Delete(&sessionRow{}).Error
	})
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, err)
	}
	return nil
}
