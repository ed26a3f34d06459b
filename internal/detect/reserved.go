package detect

import (
	"net/netip"
	"strings"
)

var reservedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking (RFC 2544): Steward's IPv4 placeholders
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (RFC 5737)
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("2001:db8::/32"),   // documentation (RFC 3849): Steward's IPv6 placeholders
}

// Reserved reports whether a match names nothing real: an address in a range reserved for
// documentation and benchmarks, a host, address or URL under the reserved .invalid, .test
// or .example domains (RFC 2606), or a telephone number in the 555-0100 to 555-0199 range set
// aside for fiction. Steward's placeholders are all of these kinds, so verify uses Reserved to
// tell a placeholder left by a rule from an identifier that survived.
func Reserved(m Match, text string) bool {
	v := text[m.Start:m.End]
	switch m.Kind {
	case IPv4, IPv6:
		addr := v
		if i := strings.IndexByte(addr, '/'); i >= 0 {
			addr = addr[:i]
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return false
		}
		for _, p := range reservedPrefixes {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
	case Email, Hostname:
		return reservedDomain(v[strings.LastIndexByte(v, '@')+1:])
	case URL:
		host := v[strings.Index(v, "://")+3:]
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:]
		}
		if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
			host = host[:i]
		}
		return reservedDomain(host)
	case Phone:
		var d []byte
		for i := 0; i < len(v); i++ {
			if v[i] >= '0' && v[i] <= '9' {
				d = append(d, v[i])
			}
		}
		return len(d) >= 7 && string(d[len(d)-7:len(d)-2]) == "55501"
	}
	return false
}

func reservedDomain(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, tld := range []string{"invalid", "test", "example", "localhost"} {
		if host == tld || strings.HasSuffix(host, "."+tld) {
			return true
		}
	}
	return false
}
