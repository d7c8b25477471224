package account

import (
	"fmt"

	"github.com/souk-tiznit/souk/mail"
)

// resetMessage is the password-reset e-mail, in the user's language.
func resetMessage(lang, to, name, link string) mail.Message {
	var subject, body string
	switch lang {
	case "ar":
		subject = "إعادة تعيين كلمة المرور على سوق"
		body = "مرحبا %s،\n\nطلب أحدهم إعادة تعيين كلمة مرور حسابك على سوق. لاختيار كلمة مرور جديدة افتح هذا الرابط خلال ساعة:\n\n%s\n\nيعمل الرابط مرة واحدة. إن لم تطلب ذلك فتجاهل هذه الرسالة، كلمة مرورك لم تتغير.\n"
	case "en":
		subject = "Reset your Souk password"
		body = "Hello %s,\n\nSomeone asked to reset the password of your Souk account. To choose a new one, open this link within the hour:\n\n%s\n\nThe link works once. If you did not ask, ignore this message: your password has not changed.\n"
	default:
		subject = "Réinitialiser votre mot de passe Souk"
		body = "Bonjour %s,\n\nQuelqu'un a demandé à réinitialiser le mot de passe de votre compte Souk. Pour en choisir un nouveau, ouvrez ce lien dans l'heure :\n\n%s\n\nLe lien ne sert qu'une fois. Si vous n'êtes pas à l'origine de la demande, ignorez ce message : votre mot de passe n'a pas changé.\n"
	}
	return mail.Message{To: to, Subject: subject, Text: fmt.Sprintf(body, name, link)}
}

// invitationMessage invites someone to join a cooperative.
func invitationMessage(lang, to, inviter, cooperative string, role MemberRole, link string) mail.Message {
	var subject, body, roleName string
	switch lang {
	case "ar":
		roleName = map[MemberRole]string{MemberManager: "مسير(ة)", MemberRegular: "عضو(ة)"}[role]
		subject = "دعوة للانضمام إلى " + cooperative + " على سوق"
		body = "مرحبا،\n\nيدعوك %s للانضمام إلى %s على سوق بصفة %s. لقبول الدعوة، ادخل إلى حسابك (أو أنشئ حسابا بهذا البريد الإلكتروني) ثم افتح هذا الرابط خلال 14 يوما:\n\n%s\n"
	case "en":
		roleName = map[MemberRole]string{MemberManager: "manager", MemberRegular: "member"}[role]
		subject = "Join " + cooperative + " on Souk"
		body = "Hello,\n\n%s invites you to join %s on Souk as a %s. To accept, sign in (or create an account with this e-mail address) and open this link within 14 days:\n\n%s\n"
	default:
		roleName = map[MemberRole]string{MemberManager: "gérant(e)", MemberRegular: "membre"}[role]
		subject = "Rejoignez " + cooperative + " sur Souk"
		body = "Bonjour,\n\n%s vous invite à rejoindre %s sur Souk en tant que %s. Pour accepter, connectez-vous (ou créez un compte avec cette adresse e-mail) puis ouvrez ce lien dans les 14 jours :\n\n%s\n"
	}
	return mail.Message{To: to, Subject: subject, Text: fmt.Sprintf(body, inviter, cooperative, roleName, link)}
}
