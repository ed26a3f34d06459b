package web

// A small Chrome DevTools Protocol client for the browser test: it starts Debian's chromium
// headless, speaks the protocol over a WebSocket (RFC 6455, written here: text frames,
// masking, 16/64-bit lengths, continuation) and drives one page.

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type browser struct {
	t       testing.TB
	conn    net.Conn
	rd      *bufio.Reader
	mu      sync.Mutex
	id      int
	session string
}

// startChromium starts headless chromium and attaches to a new blank page. It skips the test
// when chromium is not installed, and fails under CI=true.
func startChromium(t testing.TB) *browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is not installed: CI must run the browser test (.ci/run installs it)")
		}
		t.Skip("chromium is not installed: skipping the browser test (apt-get install chromium)")
	}
	profile, err := os.MkdirTemp("", "steward-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--user-data-dir="+profile,
		"--remote-debugging-port=0", "--window-size=1100,800", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Chromium's helpers share its process group: end them all, then remove the profile.
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		for range 20 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	wsURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`DevTools listening on (ws://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				wsURL <- m[1]
			}
		}
	}()
	var u string
	select {
	case u = <-wsURL:
	case <-time.After(30 * time.Second):
		t.Fatalf("chromium did not print its DevTools address within 30 s")
	}
	b := &browser{t: t}
	if err := b.dial(u); err != nil {
		t.Fatalf("devtools websocket: %v", err)
	}
	var target struct{ TargetID string }
	b.call("Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct{ SessionID string }
	b.call("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	b.session = att.SessionID
	b.call("Page.enable", nil, nil)
	return b
}

func (b *browser) dial(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	b.conn, err = net.Dial("tcp", u.Host)
	if err != nil {
		return err
	}
	key := make([]byte, 16)
	rand.Read(key)
	k := base64.StdEncoding.EncodeToString(key)
	fmt.Fprintf(b.conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", u.RequestURI(), u.Host, k)
	b.rd = bufio.NewReaderSize(b.conn, 1<<16)
	resp, err := http.ReadResponse(b.rd, nil)
	if err != nil {
		return err
	}
	sum := sha1.Sum([]byte(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return fmt.Errorf("websocket handshake: %s", resp.Status)
	}
	return nil
}

func (b *browser) writeFrame(payload []byte) error {
	hdr := []byte{0x81} // FIN, text
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n < 1<<16:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	mask := make([]byte, 4)
	rand.Read(mask)
	hdr = append(hdr, mask...)
	masked := make([]byte, len(payload))
	for i := range payload {
		masked[i] = payload[i] ^ mask[i%4]
	}
	_, err := b.conn.Write(append(hdr, masked...))
	return err
}

// readMessage reads one whole text message, joining continuation frames.
func (b *browser) readMessage() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(b.rd, h[:]); err != nil {
			return nil, err
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var l [2]byte
			io.ReadFull(b.rd, l[:])
			n = uint64(binary.BigEndian.Uint16(l[:]))
		case 127:
			var l [8]byte
			io.ReadFull(b.rd, l[:])
			n = binary.BigEndian.Uint64(l[:])
		}
		if n > 64<<20 {
			return nil, errors.New("websocket frame too large")
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(b.rd, p); err != nil {
			return nil, err
		}
		switch h[0] & 0x0f {
		case 0x8:
			return nil, errors.New("websocket closed")
		case 0x9, 0xA: // ping, pong: ignore
			continue
		}
		msg = append(msg, p...)
		if h[0]&0x80 != 0 {
			return msg, nil
		}
	}
}

// call sends a command and waits for its answer, skipping events.
func (b *browser) call(method string, params any, result any) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.id++
	req := map[string]any{"id": b.id, "method": method}
	if params != nil {
		req["params"] = params
	}
	if b.session != "" && !strings.HasPrefix(method, "Target.") {
		req["sessionId"] = b.session
	}
	msg, _ := json.Marshal(req)
	b.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if err := b.writeFrame(msg); err != nil {
		b.t.Fatalf("%s: %v", method, err)
	}
	for {
		raw, err := b.readMessage()
		if err != nil {
			b.t.Fatalf("%s: %v", method, err)
		}
		var resp struct {
			ID     int
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		json.Unmarshal(raw, &resp)
		if resp.ID != b.id {
			continue
		}
		if resp.Error != nil {
			b.t.Fatalf("%s: %s", method, resp.Error.Message)
		}
		if result != nil {
			json.Unmarshal(resp.Result, result)
		}
		return
	}
}

// eval evaluates a JavaScript expression in the page and returns its value as JSON text.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	var r struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct{ Text string }
	}
	b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	if r.ExceptionDetails != nil {
		b.t.Fatalf("evaluate %s: %s", expr, r.ExceptionDetails.Text)
	}
	return string(r.Result.Value)
}

// waitFor polls a boolean expression until it is true, for up to 15 s.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if b.eval("!!("+expr+")") == "true" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("waiting for %s: page is %s, body %.500s", what, b.eval("location.href"), b.eval("document.body ? document.body.innerText : ''"))
}

func (b *browser) navigate(u string) {
	b.t.Helper()
	b.call("Page.navigate", map[string]any{"url": u}, nil)
	b.waitFor("page load of "+u, `document.readyState === "complete" && location.href.startsWith(`+jsString(u)+`)`)
}

func (b *browser) screenshot(path string) {
	b.t.Helper()
	var r struct{ Data string }
	b.call("Page.captureScreenshot", map[string]any{"format": "png"}, &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil || len(png) < 100 {
		b.t.Fatalf("screenshot: %v (%d bytes)", err, len(png))
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// press sends a key to the focused element as a keyboard would: "Enter", " " (space),
// "Tab" or a printable character.
func (b *browser) press(key string) {
	b.t.Helper()
	codes := map[string]struct {
		code, text string
		vk         int
	}{"Enter": {"Enter", "\r", 13}, " ": {"Space", " ", 32}, "Tab": {"Tab", "", 9}}
	k, ok := codes[key]
	if !ok {
		k.text, k.code = key, "Key"+strings.ToUpper(key)
	}
	down := map[string]any{"type": "keyDown", "key": key, "code": k.code, "windowsVirtualKeyCode": k.vk}
	if k.text != "" {
		down["text"] = k.text
	}
	b.call("Input.dispatchKeyEvent", down, nil)
	b.call("Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": key, "code": k.code, "windowsVirtualKeyCode": k.vk}, nil)
}

// typeText types text into the focused element.
func (b *browser) typeText(text string) {
	b.t.Helper()
	b.call("Input.insertText", map[string]any{"text": text}, nil)
}
