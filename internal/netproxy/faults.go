package netproxy

import (
	"fmt"
	"net"
	"net/http"
	"path"
	"strconv"
	"time"
)

// FaultKind says what a fault does instead of forwarding the request.
type FaultKind int

// The kinds of fault.
const (
	// Respond answers with Status, Header and Body.
	Respond FaultKind = iota
	// Reset closes the connection without an answer (TCP RST), as a load
	// balancer or a dying peer does.
	Reset
	// Hang holds the request without an answer until the client gives up
	// (its context or timeout) or the proxy closes.
	Hang
)

func (k FaultKind) String() string {
	switch k {
	case Reset:
		return "reset"
	case Hang:
		return "hang"
	}
	return "respond"
}

// Match selects requests. Empty fields match anything.
type Match struct {
	Method string
	// Path is a path.Match glob over the escaped path, e.g.
	// "/api/v4/projects/*/variables".
	Path string
	// Action is an AWS operation name, e.g. "CreateRole".
	Action string
}

func (m Match) matchSpan(s Span) bool {
	if m.Method != "" && m.Method != s.Method {
		return false
	}
	if m.Action != "" && m.Action != s.Action {
		return false
	}
	if m.Path != "" {
		ok, err := path.Match(m.Path, s.Path)
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// Fault is one injection rule.
type Fault struct {
	Match Match
	// Times is how many matching requests get the fault; 0 means every one
	// (a permanent failure).
	Times  int
	Kind   FaultKind
	Status int
	Header http.Header
	Body   string
}

// AWSError answers an AWS query-protocol action with an error in the XML
// shape IAM and STS use, so the SDK classifies it as it would the real one.
func AWSError(action string, status int, code, message string, times int) Fault {
	body := fmt.Sprintf(`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>00000000-0000-4000-8000-netproxy0000</RequestId></ErrorResponse>`,
		errorType(status), code, message)
	return Fault{
		Match:  Match{Action: action},
		Times:  times,
		Kind:   Respond,
		Status: status,
		Header: http.Header{"Content-Type": {"text/xml"}},
		Body:   body,
	}
}

func errorType(status int) string {
	if status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// AWSThrottle is IAM's "Rate exceeded" (400 Throttling), which the SDK's
// retryer retries with backoff.
func AWSThrottle(action string, times int) Fault {
	return AWSError(action, http.StatusBadRequest, "Throttling", "Rate exceeded", times)
}

// AWSServerError is a transient 5xx from IAM (ServiceUnavailable for 503,
// InternalFailure otherwise).
func AWSServerError(action string, status, times int) Fault {
	code := "InternalFailure"
	if status == http.StatusServiceUnavailable {
		code = "ServiceUnavailable"
	}
	return AWSError(action, status, code, "We encountered an internal error. Please try again.", times)
}

// Status answers matching requests with status and a GitLab-style JSON
// message body.
func Status(m Match, status, times int) Fault {
	return Fault{
		Match:  m,
		Times:  times,
		Kind:   Respond,
		Status: status,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   fmt.Sprintf(`{"message":"%d %s"}`, status, http.StatusText(status)),
	}
}

// RateLimited is GitLab's 429 with a Retry-After in whole seconds (at least
// one, as GitLab sends).
func RateLimited(m Match, retryAfter time.Duration, times int) Fault {
	f := Status(m, http.StatusTooManyRequests, times)
	secs := int((retryAfter + time.Second - 1) / time.Second)
	f.Header.Set("Retry-After", strconv.Itoa(max(secs, 1)))
	f.Body = `{"message":"Retry later"}`
	return f
}

// ResetConn closes matching requests' connections without an answer.
func ResetConn(m Match, times int) Fault { return Fault{Match: m, Times: times, Kind: Reset} }

// HangUp holds matching requests until the client gives up.
func HangUp(m Match, times int) Fault { return Fault{Match: m, Times: times, Kind: Hang} }

// serve carries out the fault on one request.
func (f Fault) serve(w http.ResponseWriter, r *http.Request, closing <-chan struct{}) {
	switch f.Kind {
	case Hang:
		select {
		case <-r.Context().Done():
		case <-closing:
		}
	case Reset:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
		}
		if tc, ok := underlyingTCP(conn); ok {
			_ = tc.SetLinger(0) // RST rather than an orderly FIN
		}
		_ = conn.Close()
	default:
		for k, vs := range f.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
	}
}

// underlyingTCP finds the TCP connection under a hijacked (maybe TLS) one.
func underlyingTCP(c net.Conn) (*net.TCPConn, bool) {
	for {
		switch v := c.(type) {
		case *net.TCPConn:
			return v, true
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil, false
		}
	}
}
