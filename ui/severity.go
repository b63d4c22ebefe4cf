package ui

import (
	"gitlab-oidc/diagnose"
)

// severityMark is the one-character symbol of a severity, so a finding's
// weight reads without colour: ✗ for what blocks or exposes, ! for what
// should be looked at, i for information, ✓ for nothing found.
func severityMark(s diagnose.Severity) string {
	switch s {
	case diagnose.SeverityError, diagnose.SeverityCritical:
		return "✗"
	case diagnose.SeverityWarning, diagnose.SeverityHigh, diagnose.SeverityMedium:
		return "!"
	case diagnose.SeverityNone:
		return "✓"
	}
	return "i"
}

// severityStyle colours a severity by what the reader should do about it.
func severityStyle(st *styles, s diagnose.Severity) func(...string) string {
	switch s {
	case diagnose.SeverityError, diagnose.SeverityCritical:
		return st.err.Render
	case diagnose.SeverityWarning, diagnose.SeverityHigh, diagnose.SeverityMedium:
		return st.warning.Render
	case diagnose.SeverityNone:
		return st.success.Render
	}
	return st.subtle.Render
}

// severityBadge is the coloured mark alone, for one-line lists.
func severityBadge(st *styles, s diagnose.Severity) string {
	return severityStyle(st, s)(severityMark(s))
}

// severityLabel is the mark with the severity's name, padded to width so
// lists line up.
func severityLabel(st *styles, s diagnose.Severity, width int) string {
	name := string(s)
	if s == diagnose.SeverityNone {
		name = "clean"
	}
	return severityStyle(st, s)(pad(severityMark(s)+" "+name, width))
}
