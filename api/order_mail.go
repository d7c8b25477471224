package api

import (
	"context"
	"fmt"
	"strings"

	"github.com/souk-tiznit/souk/mail"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
)

// orderEvent is something that happened to an order that its buyer is told
// about by e-mail (the "order placed" confirmation is checkout.go's).
type orderEvent string

// The order events buyers are told about.
const (
	orderPaidEvent      orderEvent = "paid"      // the card payment arrived
	orderShippedEvent   orderEvent = "shipped"   // a parcel left, with its carrier and tracking number
	orderDeliveredEvent orderEvent = "delivered" // a parcel arrived (cash on delivery: and was paid)
	orderCancelledEvent orderEvent = "cancelled" // cancelled before shipment
	orderRefundedEvent  orderEvent = "refunded"  // money went back
)

// orderNotice is one e-mail to send once the change it tells of is
// committed.
type orderNotice struct {
	Event      orderEvent
	OrderID    int64
	Fulfilment *storefront.Fulfilment // the parcel shipped or delivered
	Amount     int64                  // refunded
}

// orderLang is the language of an order's e-mails: the one it was placed
// in (French for orders placed before orders kept one).
func orderLang(o storefront.Order) string {
	if o.Lang == "ar" || o.Lang == "en" {
		return o.Lang
	}
	return "fr"
}

// mailOrder sends the buyer the e-mail of each notice, after the change it
// tells of is committed. Mail is best effort: the change stands whatever
// the mail server says, and a failure is logged. A guest's secret link is
// not kept (only its hash is), so their e-mail links to the order page and
// reminds them that the link of their confirmation opens it.
func (s *Server) mailOrder(ctx context.Context, notices ...orderNotice) {
	if s.deps.Mail == nil || s.deps.Catalog == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, n := range notices {
		o, err := s.deps.Catalog.FindOrder(ctx, n.OrderID)
		if err != nil {
			s.log.ErrorContext(ctx, "read an order to e-mail its buyer", "order", n.OrderID, "err", err)
			continue
		}
		lang := orderLang(o)
		msg := orderEventMessage(lang, n, o, OrderLink(s.cfg.BaseURL, lang, o.ID, ""))
		if err := s.deps.Mail.Send(ctx, msg); err != nil {
			s.log.ErrorContext(ctx, "send an order e-mail", "order", o.ID, "event", n.Event, "err", err)
		}
	}
}

// orderEventMessage is the e-mail telling a buyer of n, in lang (ar, en;
// anything else is French).
func orderEventMessage(lang string, n orderNotice, o storefront.Order, link string) mail.Message {
	money := func(v int64) string { return payment.Money{Amount: v, Currency: o.Currency}.Format(lang) }
	carrier, tracking := "", ""
	if n.Fulfilment != nil {
		carrier, tracking = n.Fulfilment.Carrier, n.Fulfilment.TrackingNumber
	}
	guest := o.BuyerID == nil
	var subject, body, open string
	switch lang {
	case "ar":
		switch n.Event {
		case orderPaidEvent:
			subject, body = "سوق: تم دفع طلبك "+o.Number, fmt.Sprintf("وصلنا دفعك (%s). تحضّر التعاونيات طردك الآن.", money(o.Total))
		case orderShippedEvent:
			subject, body = "سوق: تم شحن طردك "+o.Number, fmt.Sprintf("سُلّم طرد من طلبك إلى %s. رقم التتبع: %s", carrier, tracking)
		case orderDeliveredEvent:
			subject, body = "سوق: تم تسليم طردك "+o.Number, "سُلّم طرد من طلبك. شكرا لدعمك الحرفيين."
		case orderCancelledEvent:
			subject, body = "سوق: تم إلغاء طلبك "+o.Number, "أُلغي طلبك."
			if n.Amount > 0 {
				body += fmt.Sprintf(" سيُعاد إليك %s على بطاقتك.", money(n.Amount))
			}
		case orderRefundedEvent:
			subject, body = "سوق: استرداد على طلبك "+o.Number, fmt.Sprintf("أُعيد إليك %s.", money(n.Amount))
		}
		open = "تابع طلبك هنا:"
		if guest {
			open = "تابع طلبك بالرابط الوارد في رسالة تأكيد الطلب، أو هنا:"
		}
		body = "مرحبا،\n\n" + body
	case "en":
		switch n.Event {
		case orderPaidEvent:
			subject, body = "Souk: your order "+o.Number+" is paid", fmt.Sprintf("Your payment of %s reached us. The cooperatives are preparing your parcel.", money(o.Total))
		case orderShippedEvent:
			subject, body = "Souk: a parcel of "+o.Number+" has shipped", fmt.Sprintf("A parcel of your order was handed to %s. Tracking number: %s", carrier, tracking)
		case orderDeliveredEvent:
			subject, body = "Souk: a parcel of "+o.Number+" is delivered", "A parcel of your order was delivered. Thank you for supporting the artisans."
		case orderCancelledEvent:
			subject, body = "Souk: your order "+o.Number+" is cancelled", "Your order is cancelled."
			if n.Amount > 0 {
				body += fmt.Sprintf(" %s goes back to your card.", money(n.Amount))
			}
		case orderRefundedEvent:
			subject, body = "Souk: a refund on your order "+o.Number, fmt.Sprintf("%s was refunded to you.", money(n.Amount))
		}
		open = "Follow your order here:"
		if guest {
			open = "Follow your order with the link in your order confirmation, or here:"
		}
		body = "Hello,\n\n" + body
	default:
		switch n.Event {
		case orderPaidEvent:
			subject, body = "Souk : votre commande "+o.Number+" est payée", fmt.Sprintf("Votre paiement de %s nous est parvenu. Les coopératives préparent votre colis.", money(o.Total))
		case orderShippedEvent:
			subject, body = "Souk : un colis de "+o.Number+" est parti", fmt.Sprintf("Un colis de votre commande a été remis à %s. Numéro de suivi : %s", carrier, tracking)
		case orderDeliveredEvent:
			subject, body = "Souk : un colis de "+o.Number+" est livré", "Un colis de votre commande a été livré. Merci de soutenir les artisans."
		case orderCancelledEvent:
			subject, body = "Souk : votre commande "+o.Number+" est annulée", "Votre commande est annulée."
			if n.Amount > 0 {
				body += fmt.Sprintf(" %s vous est remboursé sur votre carte.", money(n.Amount))
			}
		case orderRefundedEvent:
			subject, body = "Souk : un remboursement sur votre commande "+o.Number, fmt.Sprintf("%s vous a été remboursé.", money(n.Amount))
		}
		open = "Suivez votre commande ici :"
		if guest {
			open = "Suivez votre commande avec le lien de votre confirmation de commande, ou ici :"
		}
		body = "Bonjour,\n\n" + body
	}
	text := strings.TrimSpace(body) + "\n\n" + open + "\n" + link + "\n\nSouk\n"
	return mail.Message{To: o.Email, Subject: subject, Text: text}
}
