package gitlabapi

import (
	"net/http"
	"sync"
)

// CallLog is an http.RoundTripper that records every request's method and
// path, so tests and benchmarks can assert how many calls (and how many
// writes) a step made. Its zero value is ready to use and it is safe for
// concurrent use.
type CallLog struct {
	// Next serves the requests; nil means http.DefaultTransport.
	Next http.RoundTripper

	mu    sync.Mutex
	calls []Call
}

// Call is one recorded request. Path is the escaped URL path, so a project
// path shows as acme%2Fpayments just as GitLab receives it.
type Call struct {
	Method string
	Path   string
	Status int // 0 when no response arrived
}

// IsWrite reports whether the call could have changed something.
func (c Call) IsWrite() bool {
	return c.Method != http.MethodGet && c.Method != http.MethodHead && c.Method != http.MethodOptions
}

// RoundTrip records the call and passes it on.
func (l *CallLog) RoundTrip(req *http.Request) (*http.Response, error) {
	next := l.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	c := Call{Method: req.Method, Path: req.URL.EscapedPath()}
	if resp != nil {
		c.Status = resp.StatusCode
	}
	l.mu.Lock()
	l.calls = append(l.calls, c)
	l.mu.Unlock()
	return resp, err
}

// Calls returns a copy of the calls so far, in order.
func (l *CallLog) Calls() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Call(nil), l.calls...)
}

// Count returns how many calls used method ("" counts all).
func (l *CallLog) Count(method string) int {
	n := 0
	for _, c := range l.Calls() {
		if method == "" || c.Method == method {
			n++
		}
	}
	return n
}

// Writes returns how many calls could have changed something.
func (l *CallLog) Writes() int {
	n := 0
	for _, c := range l.Calls() {
		if c.IsWrite() {
			n++
		}
	}
	return n
}

// Reset forgets the calls recorded so far.
func (l *CallLog) Reset() {
	l.mu.Lock()
	l.calls = nil
	l.mu.Unlock()
}
