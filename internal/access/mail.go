package access

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	mail "github.com/wneessen/go-mail"
)

// Mailer sends notices through an SMTP server (STARTTLS when the server offers it).
type Mailer struct {
	Addr string // host:port
	From string
}

// Notify implements Notifier.
func (m Mailer) Notify(ctx context.Context, to []string, subject, body string) error {
	host, port, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("smtp server %q: %w", m.Addr, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("smtp server %q: port: %w", m.Addr, err)
	}
	msg := mail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return fmt.Errorf("smtp sender %q: %w", m.From, err)
	}
	if err := msg.To(to...); err != nil {
		return fmt.Errorf("smtp recipients: %w", err)
	}
	msg.Subject(subject)
	msg.SetBodyString(mail.TypeTextPlain, body)
	c, err := mail.NewClient(host, mail.WithPort(n), mail.WithTLSPolicy(mail.TLSOpportunistic), mail.WithTimeout(10*time.Second))
	if err != nil {
		return fmt.Errorf("smtp server %s: %w", m.Addr, err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp server %s: %w", m.Addr, err)
	}
	return nil
}
