package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseOperator(t *testing.T) {
	tests := map[string]Operator{
		"StringEquals":                      {Base: "StringEquals", Known: true},
		"StringNotLikeIfExists":             {Base: "StringNotLike", IfExists: true, Negated: true, Known: true},
		"ForAllValues:StringNotEquals":      {Set: SetForAllValues, Base: "StringNotEquals", Negated: true, Known: true},
		"ForAnyValue:StringLikeIfExists":    {Set: SetForAnyValue, Base: "StringLike", IfExists: true, Known: true},
		"Null":                              {Base: "Null", Known: true},
		"NullIfExists":                      {Base: "Null", IfExists: true},
		"ForAnyValue:Null":                  {Set: SetForAnyValue, Base: "Null"},
		"stringEquals":                      {Base: "stringEquals"},
		"StringEq":                          {Base: "StringEq"},
		"ForSomeValues:StringEquals":        {Base: "ForSomeValues:StringEquals"},
		"NotIpAddress":                      {Base: "NotIpAddress", Negated: true, Known: true},
		"ArnNotLikeIfExists":                {Base: "ArnNotLike", IfExists: true, Negated: true, Known: true},
		"DateGreaterThan":                   {Base: "DateGreaterThan", Known: true},
		"NumericNotEquals":                  {Base: "NumericNotEquals", Negated: true, Known: true},
		"BoolIfExists":                      {Base: "Bool", IfExists: true, Known: true},
		"ForAllValues:StringEqualsIfExists": {Set: SetForAllValues, Base: "StringEquals", IfExists: true, Known: true},
	}
	for op, want := range tests {
		t.Run(op, func(t *testing.T) {
			assert.Equal(t, want, ParseOperator(op))
			assert.Equal(t, want.Known, KnownOperator(op))
		})
	}
}

// TestEvaluateCondition covers every operator family with present, missing
// and multi-valued keys and the case rules.
func TestEvaluateCondition(t *testing.T) {
	const sub = "project_path:acme/app:ref_type:branch:ref:main"
	missing := []string(nil)
	tests := map[string]struct {
		op     string
		values []string
		req    []string
		want   bool
	}{
		// StringEquals: exact, case-sensitive, wildcards literal, values ORed.
		"StringEquals equal":              {"StringEquals", []string{sub}, []string{sub}, true},
		"StringEquals case differs":       {"StringEquals", []string{sub}, []string{"project_path:Acme/app:ref_type:branch:ref:main"}, false},
		"StringEquals wildcard literal":   {"StringEquals", []string{"project_path:acme/*"}, []string{sub}, false},
		"StringEquals literal star":       {"StringEquals", []string{"a*"}, []string{"a*"}, true},
		"StringEquals values are ORed":    {"StringEquals", []string{"x", sub}, []string{sub}, true},
		"StringEquals missing key":        {"StringEquals", []string{sub}, missing, false},
		"StringEquals empty request list": {"StringEquals", []string{""}, []string{}, false},
		"StringEquals empty string value": {"StringEquals", []string{""}, []string{""}, true},
		"StringEquals multi any matches":  {"StringEquals", []string{"sts.amazonaws.com"}, []string{"https://gitlab.com", "sts.amazonaws.com"}, true},
		"StringEquals multi none matches": {"StringEquals", []string{"sts.amazonaws.com"}, []string{"a", "b"}, false},
		"StringEqualsIfExists missing":    {"StringEqualsIfExists", []string{sub}, missing, true},
		"StringEqualsIfExists mismatch":   {"StringEqualsIfExists", []string{sub}, []string{"x"}, false},

		// StringNotEquals: true when missing (the Allow trap), multi-valued
		// keys: no request value may equal any policy value.
		"StringNotEquals different":         {"StringNotEquals", []string{"a"}, []string{"b"}, true},
		"StringNotEquals equal":             {"StringNotEquals", []string{"a"}, []string{"a"}, false},
		"StringNotEquals case differs":      {"StringNotEquals", []string{"a"}, []string{"A"}, true},
		"StringNotEquals missing is true":   {"StringNotEquals", []string{"a"}, missing, true},
		"StringNotEquals NOR of values":     {"StringNotEquals", []string{"a", "b"}, []string{"b"}, false},
		"StringNotEquals multi one equal":   {"StringNotEquals", []string{"a"}, []string{"a", "z"}, false},
		"StringNotEquals multi none equal":  {"StringNotEquals", []string{"a"}, []string{"y", "z"}, true},
		"StringNotEqualsIfExists missing":   {"StringNotEqualsIfExists", []string{"a"}, missing, true},
		"StringNotEqualsIfExists equal":     {"StringNotEqualsIfExists", []string{"a"}, []string{"a"}, false},
		"StringEqualsIgnoreCase folds":      {"StringEqualsIgnoreCase", []string{"Acme/App"}, []string{"acme/app"}, true},
		"StringEqualsIgnoreCase differs":    {"StringEqualsIgnoreCase", []string{"acme/app"}, []string{"acme/api"}, false},
		"StringEqualsIgnoreCase missing":    {"StringEqualsIgnoreCase", []string{"a"}, missing, false},
		"StringNotEqualsIgnoreCase folds":   {"StringNotEqualsIgnoreCase", []string{"ABC"}, []string{"abc"}, false},
		"StringNotEqualsIgnoreCase differs": {"StringNotEqualsIgnoreCase", []string{"ABC"}, []string{"abd"}, true},
		"StringNotEqualsIgnoreCase missing": {"StringNotEqualsIgnoreCase", []string{"ABC"}, missing, true},

		// StringLike: * and ?, case-sensitive.
		"StringLike star":               {"StringLike", []string{"project_path:acme/app:*"}, []string{sub}, true},
		"StringLike question":           {"StringLike", []string{"project_path:acme/ap?:ref_type:branch:ref:main"}, []string{sub}, true},
		"StringLike case-sensitive":     {"StringLike", []string{"project_path:ACME/*"}, []string{sub}, false},
		"StringLike no match":           {"StringLike", []string{"project_path:acme/api:*"}, []string{sub}, false},
		"StringLike missing":            {"StringLike", []string{"*"}, missing, false},
		"StringLikeIfExists missing":    {"StringLikeIfExists", []string{"x*"}, missing, true},
		"StringNotLike matches":         {"StringNotLike", []string{"*:ref_type:tag:*"}, []string{sub}, true},
		"StringNotLike excluded":        {"StringNotLike", []string{"*:ref:main"}, []string{sub}, false},
		"StringNotLike missing is true": {"StringNotLike", []string{"*"}, missing, true},
		"StringNotLikeIfExists missing": {"StringNotLikeIfExists", []string{"*"}, missing, true},

		// Set operators.
		"ForAnyValue one matches":            {"ForAnyValue:StringEquals", []string{"b"}, []string{"a", "b"}, true},
		"ForAnyValue none matches":           {"ForAnyValue:StringEquals", []string{"c"}, []string{"a", "b"}, false},
		"ForAnyValue missing is false":       {"ForAnyValue:StringEquals", []string{"c"}, missing, false},
		"ForAnyValue negated one differs":    {"ForAnyValue:StringNotEquals", []string{"a"}, []string{"a", "b"}, true},
		"ForAnyValue negated all equal":      {"ForAnyValue:StringNotEquals", []string{"a"}, []string{"a"}, false},
		"ForAnyValue negated missing":        {"ForAnyValue:StringNotEquals", []string{"a"}, missing, false},
		"ForAnyValue IfExists missing":       {"ForAnyValue:StringLikeIfExists", []string{"a*"}, missing, true},
		"ForAllValues all match":             {"ForAllValues:StringLike", []string{"a*", "b*"}, []string{"a1", "b2"}, true},
		"ForAllValues one fails":             {"ForAllValues:StringLike", []string{"a*"}, []string{"a1", "b2"}, false},
		"ForAllValues missing is true":       {"ForAllValues:StringEquals", []string{"a"}, missing, true},
		"ForAllValues negated none equal":    {"ForAllValues:StringNotEquals", []string{"a"}, []string{"b", "c"}, true},
		"ForAllValues negated one equal":     {"ForAllValues:StringNotEquals", []string{"a"}, []string{"a", "c"}, false},
		"ForAllValues ignore case":           {"ForAllValues:StringEqualsIgnoreCase", []string{"A", "B"}, []string{"a", "b"}, true},
		"ForAnyValue not ignore case":        {"ForAnyValue:StringNotEqualsIgnoreCase", []string{"A"}, []string{"a"}, false},
		"ForAllValues not like":              {"ForAllValues:StringNotLike", []string{"x*"}, []string{"a", "b"}, true},
		"ForAllValues IfExists present fail": {"ForAllValues:StringEqualsIfExists", []string{"a"}, []string{"b"}, false},

		// Null.
		"Null true missing":    {"Null", []string{"true"}, missing, true},
		"Null true present":    {"Null", []string{"true"}, []string{"x"}, false},
		"Null false present":   {"Null", []string{"false"}, []string{"x"}, true},
		"Null false missing":   {"Null", []string{"false"}, missing, false},
		"Null values ORed":     {"Null", []string{"true", "false"}, missing, true},
		"Null value case":      {"Null", []string{"TRUE"}, missing, true},
		"Null bogus value":     {"Null", []string{"maybe"}, missing, false},
		"NullIfExists unknown": {"NullIfExists", []string{"true"}, missing, false},

		// Bool.
		"Bool true":              {"Bool", []string{"true"}, []string{"true"}, true},
		"Bool case-insensitive":  {"Bool", []string{"true"}, []string{"True"}, true},
		"Bool false vs true":     {"Bool", []string{"false"}, []string{"true"}, false},
		"Bool missing":           {"Bool", []string{"true"}, missing, false},
		"BoolIfExists missing":   {"BoolIfExists", []string{"false"}, missing, true},
		"BinaryEquals same":      {"BinaryEquals", []string{"QmluYXJ5"}, []string{"QmluYXJ5"}, true},
		"BinaryEquals different": {"BinaryEquals", []string{"QmluYXJ5"}, []string{"QmluYXJ6"}, false},

		// Numeric.
		"NumericEquals":                 {"NumericEquals", []string{"12"}, []string{"12.0"}, true},
		"NumericEquals differs":         {"NumericEquals", []string{"12"}, []string{"13"}, false},
		"NumericEquals not a number":    {"NumericEquals", []string{"12"}, []string{"twelve"}, false},
		"NumericNotEquals":              {"NumericNotEquals", []string{"12"}, []string{"13"}, true},
		"NumericNotEquals equal":        {"NumericNotEquals", []string{"12"}, []string{"12"}, false},
		"NumericNotEquals missing":      {"NumericNotEquals", []string{"12"}, missing, true},
		"NumericLessThan":               {"NumericLessThan", []string{"3600"}, []string{"60"}, true},
		"NumericLessThan equal":         {"NumericLessThan", []string{"3600"}, []string{"3600"}, false},
		"NumericLessThanEquals":         {"NumericLessThanEquals", []string{"3600"}, []string{"3600"}, true},
		"NumericGreaterThan":            {"NumericGreaterThan", []string{"10"}, []string{"11"}, true},
		"NumericGreaterThan less":       {"NumericGreaterThan", []string{"10"}, []string{"9"}, false},
		"NumericGreaterThanEquals":      {"NumericGreaterThanEquals", []string{"10"}, []string{"10"}, true},
		"NumericGreaterThanEqualsIfEx":  {"NumericGreaterThanEqualsIfExists", []string{"10"}, missing, true},
		"NumericLessThan NaN never":     {"NumericLessThan", []string{"NaN"}, []string{"1"}, false},
		"NumericLessThan huge exponent": {"NumericLessThan", []string{"1e999999999"}, []string{"1"}, true},

		// Date.
		"DateLessThan":             {"DateLessThan", []string{"2026-01-01T00:00:00Z"}, []string{"2025-12-31T23:59:59Z"}, true},
		"DateLessThan later":       {"DateLessThan", []string{"2026-01-01T00:00:00Z"}, []string{"2026-01-02"}, false},
		"DateEquals epoch vs iso":  {"DateEquals", []string{"1767225600"}, []string{"2026-01-01T00:00:00Z"}, true},
		"DateNotEquals":            {"DateNotEquals", []string{"2026-01-01"}, []string{"2026-01-02"}, true},
		"DateGreaterThan":          {"DateGreaterThan", []string{"2026-01-01"}, []string{"2026-01-02"}, true},
		"DateGreaterThanEquals":    {"DateGreaterThanEquals", []string{"2026-01-01"}, []string{"2026-01-01T00:00:00Z"}, true},
		"DateLessThanEquals":       {"DateLessThanEquals", []string{"2026-01-01"}, []string{"2026-01-01T00:00:01Z"}, false},
		"DateEquals not a date":    {"DateEquals", []string{"2026-01-01"}, []string{"yesterday"}, false},
		"IpAddress in cidr":        {"IpAddress", []string{"10.0.0.0/8"}, []string{"10.1.2.3"}, true},
		"IpAddress outside":        {"IpAddress", []string{"10.0.0.0/8"}, []string{"192.168.1.1"}, false},
		"IpAddress single address": {"IpAddress", []string{"203.0.113.7"}, []string{"203.0.113.7"}, true},
		"NotIpAddress outside":     {"NotIpAddress", []string{"10.0.0.0/8"}, []string{"192.168.1.1"}, true},
		"NotIpAddress missing":     {"NotIpAddress", []string{"10.0.0.0/8"}, missing, true},

		// Arn: per-part wildcards.
		"ArnLike wildcard part":  {"ArnLike", []string{"arn:aws:iam::*:role/ci-*"}, []string{"arn:aws:iam::123456789012:role/ci-deploy"}, true},
		"ArnLike too few parts":  {"ArnLike", []string{"arn:aws:iam::*"}, []string{"arn:aws:iam::123456789012:role/x"}, false},
		"ArnEquals wildcard":     {"ArnEquals", []string{"arn:aws:s3:::bucket/*"}, []string{"arn:aws:s3:::bucket/key"}, true},
		"ArnEquals other region": {"ArnEquals", []string{"arn:aws:sqs:us-east-1:1:q"}, []string{"arn:aws:sqs:eu-west-1:1:q"}, false},
		"ArnNotLike":             {"ArnNotLike", []string{"arn:aws:iam::*:role/ci-*"}, []string{"arn:aws:iam::1:role/admin"}, true},
		"ArnNotEquals missing":   {"ArnNotEquals", []string{"arn:aws:iam::1:role/x"}, missing, true},

		// Unknown operators never match, not even with a missing key.
		"unknown operator":          {"StringEq", []string{"a"}, []string{"a"}, false},
		"unknown operator missing":  {"StringNotEq", []string{"a"}, missing, false},
		"lower-case operator":       {"stringequals", []string{"a"}, []string{"a"}, false},
		"unknown set prefix":        {"ForEachValue:StringEquals", []string{"a"}, []string{"a"}, false},
		"unknown with ForAllValues": {"ForAllValues:StringEq", []string{"a"}, missing, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := Condition{Operator: tc.op, Key: "gitlab.com:sub", Values: tc.values}
			got := EvaluateCondition(c, tc.req)
			assert.Equal(t, tc.want, got.Matched)
			assert.Equal(t, len(tc.req) > 0, got.Present)
			assert.Equal(t, KnownOperator(tc.op), got.KnownOperator)
			assert.Equal(t, c, got.Condition)
		})
	}
}
