package gitlabapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// callState travels in a request's context so that the transport can hand
// back what client-go throws away: GitLab's error message (client-go turns
// every 404 into a bare sentinel) and the Retry-After of the last answer.
type callState struct {
	method     string
	attempts   int
	status     int
	message    string
	retryAfter time.Duration
}

type callStateKey struct{}

func withCallState(ctx context.Context, method string) (context.Context, *callState) {
	st := &callState{method: method}
	return context.WithValue(ctx, callStateKey{}, st), st
}

func callStateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}

// inspectTransport records the status, message and Retry-After of every
// attempt into the call's state. It reads at most 8 KiB of an error body and
// puts the bytes back, so client-go still sees the whole response.
type inspectTransport struct {
	next http.RoundTripper
}

func (t inspectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	st := callStateFrom(req.Context())
	if st == nil {
		return resp, err
	}
	st.attempts++
	if err != nil {
		return resp, err
	}
	st.status = resp.StatusCode
	st.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	st.message = ""
	if resp.StatusCode >= 400 && resp.Body != nil {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		st.message = gitlabMessage(head)
	}
	return resp, nil
}

// gitlabMessage flattens GitLab's error body ({"message": "..."},
// {"message": {"field": ["..."]}} or {"error": "..."}) into one line.
func gitlabMessage(body []byte) string {
	var doc struct {
		Message json.RawMessage `json:"message"`
		Error   string          `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	if len(doc.Message) > 0 {
		var s string
		if json.Unmarshal(doc.Message, &s) == nil {
			return s
		}
		var fields map[string][]string
		if json.Unmarshal(doc.Message, &fields) == nil {
			parts := make([]string, 0, len(fields))
			for k, msgs := range fields {
				parts = append(parts, fmt.Sprintf("%s: %s", k, strings.Join(msgs, ", ")))
			}
			sort.Strings(parts)
			return strings.Join(parts, "; ")
		}
		return string(doc.Message)
	}
	return doc.Error
}

// retryPolicy bounds retries: only GET and HEAD, only on 429 and 5xx (and
// network errors), a fixed number of times, honouring Retry-After up to a cap.
type retryPolicy struct {
	max           int
	minWait       time.Duration
	maxWait       time.Duration
	maxRetryAfter time.Duration
}

func (p retryPolicy) check(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	method := http.MethodGet
	if st := callStateFrom(ctx); st != nil {
		method = st.method
	} else if resp != nil && resp.Request != nil {
		method = resp.Request.Method
	}
	if method != http.MethodGet && method != http.MethodHead {
		return false, nil // a write may have happened; never repeat it
	}
	if err != nil {
		return retryableNetError(err), nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return ra <= p.maxRetryAfter, nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return true, nil
	}
	return false, nil
}

// retryableNetError is false for certificate problems, which no retry fixes.
func retryableNetError(err error) bool {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	return !errors.As(err, &unknownCA) && !errors.As(err, &hostname) && !errors.As(err, &verify)
}

func (p retryPolicy) backoff(_, _ time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ra > 0 {
			return min(ra, p.maxRetryAfter)
		}
	}
	d := p.minWait << attempt
	if d <= 0 || d > p.maxWait {
		d = p.maxWait
	}
	return d
}
