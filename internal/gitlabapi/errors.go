package gitlabapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is a failed GitLab call explained for a person: what failed, why
// GitLab refused, and what to do about it. Status is the HTTP status (0 when
// no response arrived).
type Error struct {
	// Op is the action, e.g. "read project acme/payments".
	Op     string
	Status int
	// What is one line naming the failure with GitLab's own message.
	What string
	// Why explains the status in the terms of this tool.
	Why string
	// Fix says what the user can do.
	Fix string
	// RetryAfter is the wait GitLab asked for on 429 (0 when not given).
	RetryAfter time.Duration
	// Err is the underlying error (from client-go or the network).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.What)
	if e.Why != "" {
		b.WriteString(": ")
		b.WriteString(e.Why)
	}
	if e.Fix != "" {
		b.WriteString("; ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// StatusOf returns the HTTP status of a GitLab error, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsNotFound reports whether err is a GitLab 404.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// resource says what kind of object a call touched, so that 403 and 404
// hints can name the role GitLab wants.
type resource int

const (
	resGeneric resource = iota
	resUser
	resProject
	resProjectWrite
	resProjectVariable
	resGroup
	resGroupVariable
	resJob
)

// newError turns a failed call into an *Error with a hint fitting the status
// and the resource. message is GitLab's own text from the response body.
func newError(op string, res resource, status int, message string, retryAfter time.Duration, cause error) *Error {
	e := &Error{Op: op, Status: status, RetryAfter: retryAfter, Err: cause}
	switch {
	case status == 0:
		e.What = fmt.Sprintf("%s: %v", op, cause)
	case message != "":
		e.What = fmt.Sprintf("%s: GitLab answered %d (%s)", op, status, message)
	default:
		e.What = fmt.Sprintf("%s: GitLab answered %d %s", op, status, http.StatusText(status))
	}
	switch {
	case status == 0:
		e.Why = "GitLab could not be reached"
		e.Fix = "check the GitLab URL, your network and proxy settings"
	case status == http.StatusUnauthorized:
		e.Why = "the token is invalid, expired or revoked"
		e.Fix = "create a personal access token with the api scope and set GITLAB_TOKEN"
	case status == http.StatusForbidden:
		e.Why, e.Fix = forbiddenHint(res)
	case status == http.StatusNotFound:
		e.Why, e.Fix = notFoundHint(res)
	case status == http.StatusTooManyRequests:
		e.Why = "GitLab is rate limiting this token"
		if retryAfter > 0 {
			e.Fix = fmt.Sprintf("wait %s (Retry-After) and run again", retryAfter.Round(time.Second))
		} else {
			e.Fix = "wait a minute and run again"
		}
	case status == http.StatusConflict:
		e.Why = "GitLab found more than one match"
		e.Fix = "name the environment scope explicitly (--environment-scope)"
	case status == http.StatusBadRequest:
		e.Why = "GitLab rejected the request as invalid"
		e.Fix = "read GitLab's message above; it names the field at fault"
	case status >= 500:
		e.Why = "GitLab had a server error (retried already)"
		e.Fix = "try again later or check the instance's status page"
	}
	return e
}

func forbiddenHint(res resource) (why, fix string) {
	switch res {
	case resProjectVariable:
		return "CI/CD variables of a project need the Maintainer role, and writes need a token with the api scope",
			"ask a project Owner for Maintainer, or use a token with the api scope"
	case resGroupVariable:
		return "CI/CD variables of a group need the Owner role of the group, and writes need a token with the api scope",
			"ask a group Owner to run this, or store the variable in the project instead (--variable-scope project)"
	case resProjectWrite:
		return "changing project settings needs the Maintainer role and a token with the api scope",
			"ask a project Owner for Maintainer, or use a token with the api scope"
	case resJob:
		return "reading jobs and logs of a private project needs at least the Reporter role",
			"ask for Reporter access, or pass the log with --log"
	default:
		return "the token lacks the role or scope for this call (writes need the api scope; read_api allows reads)",
			"use a personal access token with the api scope from an account with enough access"
	}
}

func notFoundHint(res resource) (why, fix string) {
	switch res {
	case resProject, resProjectWrite, resProjectVariable, resJob:
		return "the project does not exist or this token cannot see it (GitLab answers 404 for private projects you are not a member of)",
			"check the project path (group/project) and that the token's user is a member"
	case resGroup, resGroupVariable:
		return "the group does not exist or this token cannot see it (GitLab hides private groups as 404)",
			"check the group's full path and that the token's user is a member"
	default:
		return "GitLab did not find it (or hides it from this token)", "check the path and the token's access"
	}
}

// parseRetryAfter reads a Retry-After header in seconds or HTTP-date form.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
