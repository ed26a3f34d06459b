package postgres

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// This file holds the conversions between PostgreSQL's text form of a value and its binary
// form that binary COPY needs: the text PostgreSQL prints (DateStyle ISO) from the binary form
// it sends, and the binary form from text. The parsers accept only the plain forms PostgreSQL
// prints and rules write, and say so exactly; anything else (another spelling PostgreSQL also
// accepts, or an invalid value) is left to the server (see resolver), so that a value is never
// read otherwise than PostgreSQL would read it.

// Dates and timestamps count from 2000-01-01 (Julian day 2451545): days in an int32,
// microseconds in an int64. The extremes of each stand for -infinity and infinity.
const (
	pgEpochJDate  = 2451545
	usecsPerDay   = 86_400_000_000
	dateEndJulian = 2147483494 // 5874898-01-01, the first day after the last date
	// The range of timestamps: 4714-11-24 BC 00:00 to 294277-01-01 00:00 (excluded).
	minTimestamp = -211813488000000000
	endTimestamp = 9223371331200000000
)

// j2date is PostgreSQL's j2date: the proleptic Gregorian date of a Julian day (astronomical
// years: 0 is 1 BC).
func j2date(jd int) (year, month, day int) {
	julian := uint32(jd) + 32044
	quad := julian / 146097
	extra := (julian-quad*146097)*4 + 3
	julian += 60 + quad*3 + extra/146097
	quad = julian / 1461
	julian -= quad * 1461
	y := int(julian * 4 / 1461)
	if y != 0 {
		julian = (julian+305)%365 + 123
	} else {
		julian = (julian+306)%366 + 123
	}
	y += int(quad * 4)
	quad = julian * 2141 / 65536
	return y - 4800, int((quad+10)%12 + 1), int(julian - 7834*quad/256)
}

// date2j is PostgreSQL's date2j, j2date's inverse.
func date2j(y, m, d int) int {
	if m > 2 {
		m++
		y += 4800
	} else {
		m += 13
		y += 4799
	}
	century := y / 100
	return y*365 - 32167 + y/4 - century + century/4 + 7834*m/256 + d
}

// appendYMD writes a date as DateStyle ISO does; BC years are left for the caller to mark.
func appendYMD(b []byte, y, m, d int) []byte {
	if y <= 0 {
		y = 1 - y
	}
	if y < 1000 {
		b = append(b, "000"[:4-digits(y)]...)
	}
	b = strconv.AppendInt(b, int64(y), 10)
	return append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

func digits(n int) int {
	switch {
	case n < 10:
		return 1
	case n < 100:
		return 2
	}
	return 3
}

// appendDate writes a binary date as PostgreSQL's date_out does with DateStyle ISO.
func appendDate(b []byte, days int32) []byte {
	switch days {
	case math.MinInt32:
		return append(b, "-infinity"...)
	case math.MaxInt32:
		return append(b, "infinity"...)
	}
	y, m, d := j2date(int(days) + pgEpochJDate)
	b = appendYMD(b, y, m, d)
	if y <= 0 {
		b = append(b, " BC"...)
	}
	return b
}

// appendTimestamp writes a binary timestamp as PostgreSQL's timestamp_out does with DateStyle
// ISO: seconds always, a fraction only when not zero and without trailing zeros.
func appendTimestamp(b []byte, us int64) []byte {
	switch us {
	case math.MinInt64:
		return append(b, "-infinity"...)
	case math.MaxInt64:
		return append(b, "infinity"...)
	}
	days, t := us/usecsPerDay, us%usecsPerDay
	if t < 0 {
		t += usecsPerDay
		days--
	}
	y, m, d := j2date(int(days) + pgEpochJDate)
	b = appendYMD(b, y, m, d)
	sec := t / 1_000_000
	frac := t % 1_000_000
	h, mi, s := sec/3600, sec/60%60, sec%60
	b = append(b, ' ', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10))
	if frac != 0 {
		var f [7]byte
		f[0] = '.'
		n := 7
		for i := 6; i >= 1; i-- {
			f[i] = byte('0' + frac%10)
			frac /= 10
			if f[i] == '0' && n == i+1 {
				n = i
			}
		}
		b = append(b, f[:n]...)
	}
	if y <= 0 {
		b = append(b, " BC"...)
	}
	return b
}

// appendUUID writes a uuid as uuid_out does.
func appendUUID(b []byte, u []byte) []byte {
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], u[10:16])
	return append(b, s[:]...)
}

// twoDigits reads exactly two decimal digits.
func twoDigits(s string) (int, bool) {
	if len(s) < 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// parseYMD reads a date as DateStyle ISO prints it ("2024-01-31", "10000-01-01", "0044-03-15"
// followed by " BC" somewhere after it), giving the astronomical year, and the text after the
// day. maxYear bounds the AD years accepted.
func parseYMD(s string, maxYear int) (y, m, d int, rest string, ok bool) {
	i := 0
	for i < len(s) && i < 8 && s[i] >= '0' && s[i] <= '9' {
		y = y*10 + int(s[i]-'0')
		i++
	}
	if i < 4 || i > 4 && s[0] == '0' || i >= len(s) || s[i] != '-' {
		return 0, 0, 0, "", false
	}
	m, ok1 := twoDigits(s[i+1:])
	if !ok1 || len(s) < i+6 || s[i+3] != '-' {
		return 0, 0, 0, "", false
	}
	d, ok2 := twoDigits(s[i+4:])
	if !ok2 {
		return 0, 0, 0, "", false
	}
	rest = s[i+6:]
	if y < 1 || y > maxYear {
		return 0, 0, 0, "", false
	}
	if strings.HasSuffix(rest, " BC") {
		rest = rest[:len(rest)-3]
		if y > 4713 {
			return 0, 0, 0, "", false
		}
		y = 1 - y
	}
	if m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) {
		return 0, 0, 0, "", false
	}
	return y, m, d, rest, true
}

func daysInMonth(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseDate reads a date as DateStyle ISO prints it, or infinity, into days since 2000-01-01.
func parseDate(s string) (int32, bool) {
	switch s {
	case "infinity":
		return math.MaxInt32, true
	case "-infinity":
		return math.MinInt32, true
	}
	y, m, d, rest, ok := parseYMD(s, 5874897)
	if !ok || rest != "" {
		return 0, false
	}
	jd := date2j(y, m, d)
	if jd < 0 || jd >= dateEndJulian {
		return 0, false
	}
	return int32(jd - pgEpochJDate), true
}

// parseTimestamp reads a timestamp as DateStyle ISO prints it ("2024-01-31 12:00:00",
// fraction of up to six digits, then with zone an offset "+01", "-03:30" or "+00:09:21", then
// " BC"), or infinity, into microseconds since 2000-01-01 (UTC with zone). A timestamp with
// time zone must carry its offset (without one, the session's TimeZone decides: the server
// parses it); one without must not (PostgreSQL ignores it: left to the server too).
func parseTimestamp(s string, zone bool) (int64, bool) {
	switch s {
	case "infinity":
		return math.MaxInt64, true
	case "-infinity":
		return math.MinInt64, true
	}
	y, m, d, rest, ok := parseYMD(s, 294276)
	if !ok || len(rest) < 9 || rest[0] != ' ' || rest[3] != ':' || rest[6] != ':' {
		return 0, false
	}
	h, ok1 := twoDigits(rest[1:])
	mi, ok2 := twoDigits(rest[4:])
	sec, ok3 := twoDigits(rest[7:])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	rest = rest[9:]
	var frac int64
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			frac = frac*10 + int64(rest[n]-'0')
			n++
		}
		if n == 1 || n > 7 {
			return 0, false
		}
		for i := n; i < 7; i++ {
			frac *= 10
		}
		rest = rest[n:]
	}
	var offset int64
	hasOffset := len(rest) > 0 && (rest[0] == '+' || rest[0] == '-')
	if hasOffset {
		sign := int64(1)
		if rest[0] == '-' {
			sign = -1
		}
		oh, ok := twoDigits(rest[1:])
		if !ok || oh > 15 {
			return 0, false
		}
		rest = rest[3:]
		om, os := 0, 0
		if len(rest) > 0 && rest[0] == ':' {
			if om, ok = twoDigits(rest[1:]); !ok || om > 59 {
				return 0, false
			}
			rest = rest[3:]
			if len(rest) > 0 && rest[0] == ':' {
				if os, ok = twoDigits(rest[1:]); !ok || os > 59 {
					return 0, false
				}
				rest = rest[3:]
			}
		}
		offset = sign * int64(oh*3600+om*60+os)
	}
	if rest != "" || hasOffset != zone {
		return 0, false
	}
	secs := int64(date2j(y, m, d)-pgEpochJDate)*86400 + int64(h*3600+mi*60+sec) - offset
	us := secs*1_000_000 + frac
	if us < minTimestamp || us >= endTimestamp {
		return 0, false
	}
	return us, true
}

// parseFloat reads a float in plain decimal or exponent form, or NaN, Infinity, -Infinity,
// the forms float4out and float8out print. Values PostgreSQL rejects as out of range
// (overflow, or a non-zero value that rounds to zero) are refused.
func parseFloat(s string, bits int) (float64, bool) {
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	mantissa, nonzero := 0, false
	for ; i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.'); i++ {
		if s[i] != '.' {
			mantissa++
			nonzero = nonzero || s[i] != '0'
		}
	}
	if mantissa == 0 || strings.Count(s, ".") > 1 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil || f == 0 && nonzero {
		return 0, false
	}
	return f, true
}

// Numeric's binary form: the count of base-10000 digits, the weight of the first, the sign,
// the display scale, then the digits.
const (
	numericPos = 0x0000
	numericNeg = 0x4000
	numericNaN = 0xC000
)

// appendNumeric writes a numeric in plain decimal form ("-12.50", ".5", "7.") or NaN in its
// binary form. The display scale is the count of digits after the point, as numeric_in sets
// it; the exponent form and Infinity are left to the server.
func appendNumeric(b []byte, s string) ([]byte, bool) {
	if s == "NaN" {
		return append(b, 0, 0, 0, 0, numericNaN>>8, 0, 0, 0), true
	}
	sign := numericPos
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = numericNeg
		}
		s = s[1:]
	}
	ip, fp, _ := strings.Cut(s, ".")
	if len(ip)+len(fp) == 0 || len(fp) > 1000 || len(ip) > 1000 || !allDigits(ip) || !allDigits(fp) {
		return b, false
	}
	ip = strings.TrimLeft(ip, "0")
	// Base-10000 digits: the integer part grouped from the point leftwards, the fraction from
	// the point rightwards.
	var ds []int16
	lead := (4 - len(ip)%4) % 4
	weight := (len(ip)+lead)/4 - 1
	acc, n := 0, lead
	for i := 0; i < len(ip); i++ {
		acc = acc*10 + int(ip[i]-'0')
		if n++; n == 4 {
			ds = append(ds, int16(acc))
			acc, n = 0, 0
		}
	}
	for i := 0; i < len(fp); i++ {
		acc = acc*10 + int(fp[i]-'0')
		if n++; n == 4 {
			ds = append(ds, int16(acc))
			acc, n = 0, 0
		}
	}
	if n > 0 {
		for ; n < 4; n++ {
			acc *= 10
		}
		ds = append(ds, int16(acc))
	}
	for len(ds) > 0 && ds[0] == 0 {
		ds = ds[1:]
		weight--
	}
	for len(ds) > 0 && ds[len(ds)-1] == 0 {
		ds = ds[:len(ds)-1]
	}
	if len(ds) == 0 {
		weight, sign = 0, numericPos
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(ds)))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, uint16(sign))
	b = binary.BigEndian.AppendUint16(b, uint16(len(fp)))
	for _, d := range ds {
		b = binary.BigEndian.AppendUint16(b, uint16(d))
	}
	return b, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendUUIDText writes a uuid in its canonical form (8-4-4-4-12 hex digits) in binary.
func appendUUIDText(b []byte, s string) ([]byte, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return b, false
	}
	var u [16]byte
	j := 0
	for i := 0; i < 36; i += 2 {
		if s[i] == '-' {
			i--
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return b, false
		}
		u[j] = hi<<4 | lo
		j++
	}
	return append(b, u[:]...), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendByteaText writes a bytea given in hex form ("\x0aff") in binary.
func appendByteaText(b []byte, s string) ([]byte, bool) {
	if len(s) < 2 || s[0] != '\\' || s[1] != 'x' || len(s)%2 != 0 {
		return b, false
	}
	start := len(b)
	b = append(b, make([]byte, (len(s)-2)/2)...)
	if _, err := hex.Decode(b[start:], []byte(s[2:])); err != nil {
		return b[:start], false
	}
	return b, true
}

// The address families of inet's binary form.
const (
	pgAFInet  = 2
	pgAFInet6 = 3
)

// appendInet writes an inet or cidr value in binary: an IPv4 address as four decimal parts
// without leading zeros, or an IPv6 address, each with an optional /bits (required for cidr,
// whose bits right of the mask must be zero).
func appendInet(b []byte, s string, cidr bool) ([]byte, bool) {
	as, bs, hasBits := strings.Cut(s, "/")
	var addr netip.Addr
	if strings.IndexByte(as, ':') >= 0 {
		a, err := netip.ParseAddr(as)
		if err != nil || a.Zone() != "" {
			return b, false
		}
		addr = a
	} else {
		a, ok := plainIPv4(as)
		if !ok {
			return b, false
		}
		addr = netip.AddrFrom4(a)
	}
	maxBits := addr.BitLen()
	bits := maxBits
	if hasBits {
		n, err := strconv.Atoi(bs)
		if err != nil || n < 0 || n > maxBits || bs != strconv.Itoa(n) {
			return b, false
		}
		bits = n
	} else if cidr {
		return b, false // PostgreSQL infers the mask of a cidr written without one
	}
	if cidr {
		if p := netip.PrefixFrom(addr, bits); p.Masked().Addr() != addr {
			return b, false
		}
	}
	family := byte(pgAFInet)
	if maxBits == 128 {
		family = pgAFInet6
	}
	isCidr := byte(0)
	if cidr {
		isCidr = 1
	}
	b = append(b, family, byte(bits), isCidr, byte(maxBits/8))
	return append(b, addr.AsSlice()...), true
}

// plainIPv4 reads four decimal parts, 0 to 255, without leading zeros.
func plainIPv4(s string) ([4]byte, bool) {
	var a [4]byte
	for i := range 4 {
		end := strings.IndexByte(s, '.')
		if i == 3 {
			end = len(s)
		}
		if end <= 0 || end > 3 || end > 1 && s[0] == '0' || !allDigits(s[:end]) {
			return a, false
		}
		n, _ := strconv.Atoi(s[:end])
		if n > 255 {
			return a, false
		}
		a[i] = byte(n)
		if i < 3 {
			s = s[end+1:]
		}
	}
	return a, true
}
