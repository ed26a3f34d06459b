// Package smtptest runs a small, real SMTP server on loopback for tests: it speaks EHLO/HELO,
// MAIL, RCPT, DATA, RSET, NOOP and QUIT over a TCP socket (no TLS, no auth) and keeps every
// message it receives, so that tests can check what a mail client really sent.
package smtptest

import (
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one mail received.
type Message struct {
	From string
	To   []string
	Data string // headers and body as sent, dot-unstuffed
}

// Server is a running listener.
type Server struct {
	Addr string // 127.0.0.1:port
	ln   net.Listener
	mu   sync.Mutex
	msgs []Message
	got  chan struct{}
}

// Start listens on a free loopback port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtp listener: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, got: make(chan struct{}, 100)}
	go s.serve()
	t.Cleanup(func() { ln.Close() })
	return s
}

// Messages returns what arrived so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait waits up to d for n messages in all and returns them.
func (s *Server) Wait(n int, d time.Duration) []Message {
	deadline := time.After(d)
	for len(s.Messages()) < n {
		select {
		case <-s.got:
		case <-deadline:
			return s.Messages()
		}
	}
	return s.Messages()
}

func (s *Server) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(c)
	}
}

func (s *Server) session(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 smtptest ready")
	var m Message
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			tp.PrintfLine("250-smtptest greets %s", arg)
			tp.PrintfLine("250-8BITMIME")
			tp.PrintfLine("250 SIZE 10485760")
		case "HELO":
			tp.PrintfLine("250 smtptest")
		case "MAIL":
			m = Message{From: addr(arg)}
			tp.PrintfLine("250 ok")
		case "RCPT":
			m.To = append(m.To, addr(arg))
			tp.PrintfLine("250 ok")
		case "DATA":
			if m.From == "" || len(m.To) == 0 {
				tp.PrintfLine("503 need MAIL and RCPT first")
				continue
			}
			tp.PrintfLine("354 end with <CRLF>.<CRLF>")
			lines, err := tp.ReadDotLines()
			if err != nil {
				return
			}
			m.Data = strings.Join(lines, "\n")
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			s.got <- struct{}{}
			m = Message{}
			tp.PrintfLine("250 queued")
		case "RSET":
			m = Message{}
			tp.PrintfLine("250 ok")
		case "NOOP":
			tp.PrintfLine("250 ok")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("502 command not implemented")
		}
	}
}

// addr takes the address out of "FROM:<a@b> SIZE=…" or "TO:<a@b>".
func addr(arg string) string {
	if i := strings.IndexByte(arg, '<'); i >= 0 {
		if j := strings.IndexByte(arg[i:], '>'); j > 0 {
			return arg[i+1 : i+j]
		}
	}
	_, v, _ := strings.Cut(arg, ":")
	return strings.TrimSpace(v)
}
