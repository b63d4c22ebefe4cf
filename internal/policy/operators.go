package policy

import (
	"cmp"
	"errors"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Set modifiers of a condition operator.
const (
	SetNone         = ""
	SetForAnyValue  = "ForAnyValue"
	SetForAllValues = "ForAllValues"
)

// Operator is a condition operator split into its parts:
// "ForAllValues:StringNotLikeIfExists" is Set "ForAllValues", Base
// "StringNotLike", IfExists true, Negated true.
type Operator struct {
	Set      string // SetNone, SetForAnyValue or SetForAllValues
	Base     string // e.g. "StringLike", "Null"
	IfExists bool
	// Negated is true for the operators that are true when nothing matches
	// (StringNotEquals, StringNotLike, NumericNotEquals, ArnNotLike, ...):
	// with a missing key they are true, which makes them dangerous in Allow.
	Negated bool
	// Known is false for operators IAM does not define (IAM refuses to store
	// such a policy). Operator names are case-sensitive in IAM:
	// "stringEquals" is rejected with "Invalid Condition type".
	Known bool
}

// matchFunc compares one policy value with one request value for the
// positive form of an operator.
type matchFunc func(policyValue, requestValue string) bool

type baseOp struct {
	negated bool
	match   matchFunc
}

// baseOps maps every IAM condition operator (without IfExists or a set
// prefix) to its matcher. Negated operators share their positive twin's
// matcher and invert the outcome.
var baseOps = map[string]baseOp{
	"StringEquals":              {false, strEquals},
	"StringNotEquals":           {true, strEquals},
	"StringEqualsIgnoreCase":    {false, strings.EqualFold},
	"StringNotEqualsIgnoreCase": {true, strings.EqualFold},
	"StringLike":                {false, Like},
	"StringNotLike":             {true, Like},
	"NumericEquals":             {false, numeric(func(c int) bool { return c == 0 })},
	"NumericNotEquals":          {true, numeric(func(c int) bool { return c == 0 })},
	"NumericLessThan":           {false, numeric(func(c int) bool { return c < 0 })},
	"NumericLessThanEquals":     {false, numeric(func(c int) bool { return c <= 0 })},
	"NumericGreaterThan":        {false, numeric(func(c int) bool { return c > 0 })},
	"NumericGreaterThanEquals":  {false, numeric(func(c int) bool { return c >= 0 })},
	"DateEquals":                {false, date(func(c int) bool { return c == 0 })},
	"DateNotEquals":             {true, date(func(c int) bool { return c == 0 })},
	"DateLessThan":              {false, date(func(c int) bool { return c < 0 })},
	"DateLessThanEquals":        {false, date(func(c int) bool { return c <= 0 })},
	"DateGreaterThan":           {false, date(func(c int) bool { return c > 0 })},
	"DateGreaterThanEquals":     {false, date(func(c int) bool { return c >= 0 })},
	"Bool":                      {false, strings.EqualFold},
	"BinaryEquals":              {false, strEquals},
	"IpAddress":                 {false, ipMatch},
	"NotIpAddress":              {true, ipMatch},
	"ArnEquals":                 {false, arnLike},
	"ArnLike":                   {false, arnLike},
	"ArnNotEquals":              {true, arnLike},
	"ArnNotLike":                {true, arnLike},
	"Null":                      {false, nil},
}

// ParseOperator splits a condition operator as written in a policy.
func ParseOperator(op string) Operator {
	o := Operator{}
	rest := op
	if p, r, ok := strings.Cut(op, ":"); ok {
		if p != SetForAnyValue && p != SetForAllValues {
			o.Base = op
			return o
		}
		o.Set, rest = p, r
	}
	if b, ok := strings.CutSuffix(rest, "IfExists"); ok {
		o.IfExists, rest = true, b
	}
	o.Base = rest
	b, ok := baseOps[rest]
	// Null takes neither IfExists nor a set prefix: it is the test for
	// existence itself.
	if !ok || (rest == "Null" && (o.IfExists || o.Set != SetNone)) {
		return o
	}
	o.Negated, o.Known = b.negated, true
	return o
}

// KnownOperator reports whether IAM defines the condition operator op.
func KnownOperator(op string) bool { return ParseOperator(op).Known }

func strEquals(a, b string) bool { return a == b }

// numeric compares as numbers, so "12" equals "12.0". A value that is not a
// finite number never matches. (Floats rather than big.Rat: exponents such
// as 1e999999999 would make big.Rat allocate without bound.)
func numeric(ok func(c int) bool) matchFunc {
	return func(policyValue, requestValue string) bool {
		p, okP := parseNumber(policyValue)
		r, okR := parseNumber(requestValue)
		if !okP || !okR {
			return false
		}
		return ok(cmp.Compare(r, p))
	}
}

// parseNumber accepts decimal numbers; out-of-range values become ±Inf so
// that they still compare sensibly. NaN is not a number.
func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, !math.IsNaN(f)
}

// date compares instants; IAM accepts ISO 8601 dates and times and epoch
// seconds. A value that is neither never matches.
func date(ok func(c int) bool) matchFunc {
	return func(policyValue, requestValue string) bool {
		p, okP := parseDate(policyValue)
		r, okR := parseDate(requestValue)
		if !okP || !okR {
			return false
		}
		return ok(r.Compare(p))
	}
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(secs, 0), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ipMatch reports whether the request address lies in the policy's CIDR (or
// equals the policy's single address).
func ipMatch(policyValue, requestValue string) bool {
	addr, err := netip.ParseAddr(strings.TrimSpace(requestValue))
	if err != nil {
		return false
	}
	if pfx, err := netip.ParsePrefix(strings.TrimSpace(policyValue)); err == nil {
		return pfx.Contains(addr.Unmap())
	}
	pa, err := netip.ParseAddr(strings.TrimSpace(policyValue))
	return err == nil && pa.Unmap() == addr.Unmap()
}

// arnLike matches the six colon-separated parts of an ARN separately, each
// with StringLike wildcards, as IAM's ArnLike and ArnEquals do.
func arnLike(policyValue, requestValue string) bool {
	p := strings.SplitN(policyValue, ":", 6)
	r := strings.SplitN(requestValue, ":", 6)
	if len(p) != 6 || len(r) != 6 {
		return false
	}
	for i := range p {
		if !Like(p[i], r[i]) {
			return false
		}
	}
	return true
}
