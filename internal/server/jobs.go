package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/api"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/mail"
	"github.com/souk-tiznit/souk/media"
)

// Job is periodic housekeeping. Every job is safe to run in every instance
// at once: each is a set of conditional updates that only one instance can
// win, so nothing relies on a timer firing once.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context, now time.Time) (int, error)
}

// Jobs are the process's background jobs.
func (s *Server) Jobs() []Job {
	return []Job{
		// A card hold lasts 15 minutes but a checkout at least 30: once
		// a hold has lapsed, its checkout is closed so it cannot be paid.
		{Name: "expire booking holds", Every: 30 * time.Second, Run: func(ctx context.Context, now time.Time) (int, error) {
			n, err := s.Bookings.ExpireHolds(ctx, now)
			if s.Card != nil {
				closed, cerr := s.Bookings.CloseLapsedCheckouts(ctx, s.Card, s.Payments, now)
				n, err = n+closed, errors.Join(err, cerr)
			}
			return n, err
		}},
		// A webhook lost on the way is healed by asking Stripe about the
		// card payments still pending past their checkout's expiry.
		{Name: "reconcile stale card payments", Every: 5 * time.Minute, Run: func(ctx context.Context, now time.Time) (int, error) {
			res, err := s.API.ReconcilePayments(ctx, now.Add(-api.ReconcileAfter), 200)
			return res.Applied, err
		}},
		{Name: "flag overdue lease invoices", Every: 15 * time.Minute, Run: func(ctx context.Context, now time.Time) (int, error) {
			return s.Bookings.FlagOverdueInvoices(ctx, now)
		}},
		// A conditional update per order: every instance may run it, each
		// order expires and gives its stock back once (rule 2).
		{Name: "expire unpaid orders", Every: 30 * time.Second, Run: func(ctx context.Context, now time.Time) (int, error) {
			return s.Catalog.ExpireOrders(ctx, now)
		}},
		// Conditional deletes of carts still stale: safe in every instance.
		{Name: "sweep abandoned guest carts", Every: time.Hour, Run: func(ctx context.Context, now time.Time) (int, error) {
			return s.Catalog.SweepGuestCarts(ctx, now)
		}},
		{Name: "sweep expired sessions and rate-limit windows", Every: 10 * time.Minute, Run: func(ctx context.Context, _ time.Time) (int, error) {
			n, err := s.Accounts.Sweep(ctx)
			return int(n), err
		}},
		// An upload writes its objects before its row; one that failed
		// and could not clean up after itself leaves objects no row
		// names. The grace period keeps the sweep off uploads in flight.
		{Name: "sweep orphaned photos", Every: time.Hour, Run: func(ctx context.Context, _ time.Time) (int, error) {
			return media.SweepOrphans(ctx, s.Media, "public/photos/", time.Hour, s.isPhotoKeyReferenced)
		}},
		{Name: "sweep orphaned certificate documents", Every: time.Hour, Run: func(ctx context.Context, _ time.Time) (int, error) {
			return media.SweepOrphans(ctx, s.Media, "private/certificates/", time.Hour, s.Catalog.IsMediaKeyReferenced)
		}},
	}
}

// isPhotoKeyReferenced reports whether a product photo, a certificate or a
// venue photo uses the media key: the photos sweep must keep all of them.
func (s *Server) isPhotoKeyReferenced(ctx context.Context, key string) (bool, error) {
	if ref, err := s.Catalog.IsMediaKeyReferenced(ctx, key); err != nil || ref {
		return ref, err
	}
	return s.Bookings.IsMediaKeyReferenced(ctx, key)
}

// RunJobs runs every job on its period until ctx ends. A failing job logs
// and tries again next period (a peer may be down).
func (s *Server) RunJobs(ctx context.Context) {
	for _, j := range s.Jobs() {
		go func() {
			t := time.NewTicker(j.Every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case now := <-t.C:
					runCtx, cancel := context.WithTimeout(ctx, j.Every)
					n, err := j.Run(runCtx, now)
					cancel()
					switch {
					case err != nil && ctx.Err() == nil:
						s.Log.Warn("background job failed; will retry", "job", j.Name, "err", err)
					case n > 0:
						s.Log.Info("background job", "job", j.Name, "changed", n)
					}
				}
			}
		}()
	}
}

// mailNotifier tells artisans by e-mail what the booking rules decided.
type mailNotifier struct {
	mail     mail.Sender
	accounts *account.Service
	baseURL  string
	log      *slog.Logger
}

// WaitlistOffered e-mails the artisan that days they waited for are held
// for them.
func (n mailNotifier) WaitlistOffered(ctx context.Context, o booking.WaitlistOffer) error {
	u, err := n.accounts.FindUser(ctx, o.Booking.ArtisanID)
	if err != nil {
		return fmt.Errorf("waitlist offer to user %d: %w", o.Booking.ArtisanID, err)
	}
	link := fmt.Sprintf("%s/%s/dashboard/bookings/%d", n.baseURL, u.Lang, o.Booking.ID)
	expires := ""
	if o.Booking.HoldExpiresAt != nil {
		expires = o.Booking.HoldExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	msg := mail.Message{
		To:      u.Email,
		Subject: "Souk: the days you waited for are free",
		Text: fmt.Sprintf("Hello %s,\n\nDays you were waiting for (%s to %s) have been freed and are held for you until %s.\n"+
			"Confirm and pay here: %s\n\nSouk", u.Name, o.Booking.FirstDay, o.Booking.LastDay, expires, link),
	}
	if err := n.mail.Send(ctx, msg); err != nil {
		return fmt.Errorf("send waitlist offer: %w", err)
	}
	return nil
}
