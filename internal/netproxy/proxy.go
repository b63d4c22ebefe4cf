// Package netproxy is a loopback reverse proxy for tests and benchmarks: it
// puts a fixed latency in front of a real peer (moto, the fake GitLab, a test
// OIDC issuer), records when every request started and ended, and injects
// faults by rule (AWS throttling, 5xx, GitLab 429 with Retry-After,
// connection resets, requests that hang). Loopback peers answer in
// microseconds, which hides every call that runs one after another when it
// could run beside another; 50 ms per call makes such a chain visible.
package netproxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultLatency is added to every request when Options.Latency is zero: a
// typical round trip from a laptop to an AWS region or to gitlab.com.
const DefaultLatency = 50 * time.Millisecond

// maxInspectBody bounds how much of a request body is read to find the AWS
// Action; IAM query requests are a few KiB at most.
const maxInspectBody = 1 << 20

// Options tune a proxy. The zero value adds DefaultLatency and no faults.
type Options struct {
	// Latency is added before every request is forwarded (or a fault is
	// served); 0 means DefaultLatency, a negative value means none.
	Latency time.Duration
	// Faults are tried in order; the first whose rule matches and that has
	// times left is served instead of forwarding the request.
	Faults []Fault
	// TLS serves HTTPS with a certificate for 127.0.0.1 (see CertPool), for
	// peers that must be reached over https, such as an OIDC issuer.
	TLS bool
}

// Span is one request as the proxy saw it: when it arrived and when its
// answer was complete, so that a trace shows which calls overlapped.
type Span struct {
	Method string
	Path   string // escaped path, as sent
	// Action is the AWS query action (Form "Action" or the X-Amz-Target
	// operation), empty for other requests.
	Action string
	// Resource names what an AWS request is about (RoleName,
	// OpenIDConnectProviderArn, PolicyArn, Url), empty when none.
	Resource   string
	Start, End time.Time
	Status     int    // 0 when no response was sent (reset, hang)
	Fault      string // the fault served instead of the peer, "" when forwarded
}

// Name is "IAM-style Action" for AWS requests and "METHOD /path" otherwise.
func (s Span) Name() string {
	if s.Action != "" {
		return s.Action
	}
	return s.Method + " " + s.Path
}

// Duration is how long the request took through the proxy.
func (s Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// Proxy is a running proxy. Its methods are safe for concurrent use.
type Proxy struct {
	// URL is where clients send requests instead of the target.
	URL string

	srv      *httptest.Server
	upstream *http.Transport
	latency  time.Duration
	closing  chan struct{}
	once     sync.Once

	mu     sync.Mutex
	faults []*Fault
	spans  []Span
}

// Start runs a proxy to target for the length of the test (or benchmark)
// and stops it when the test ends, so no proxy outlives its test.
func Start(t testing.TB, target string, opts Options) *Proxy {
	t.Helper()
	p, err := New(target, opts)
	if err != nil {
		t.Fatalf("netproxy: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// New runs a proxy to target (an http or https base URL) until Close. An
// https target's certificate is not verified: the proxy only ever talks to
// loopback test peers with throw-away certificates.
func New(target string, opts Options) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("target %q is not an http(s) base URL", target)
	}
	p := &Proxy{latency: opts.Latency, closing: make(chan struct{})}
	switch {
	case p.latency == 0:
		p.latency = DefaultLatency
	case p.latency < 0:
		p.latency = 0
	}
	for i := range opts.Faults {
		f := opts.Faults[i]
		p.faults = append(p.faults, &f)
	}
	p.upstream = &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback test peers only
		MaxIdleConnsPerHost: 64,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			// Keep the Host the client used: an issuer builds its URLs
			// from it, and moto ignores it.
			r.Out.Host = r.In.Host
		},
		Transport: p.upstream,
		ErrorLog:  nil,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client gave up; nobody reads this answer
			}
			http.Error(w, "netproxy: upstream: "+err.Error(), http.StatusBadGateway)
		},
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serve(w, r, rp)
	}))
	if opts.TLS {
		p.srv.StartTLS()
	} else {
		p.srv.Start()
	}
	p.URL = p.srv.URL
	return p, nil
}

// Close stops the proxy: requests held by a hang fault are released first,
// then the server waits for the rest.
func (p *Proxy) Close() {
	p.once.Do(func() {
		close(p.closing)
		p.srv.CloseClientConnections()
		p.srv.Close()
		p.upstream.CloseIdleConnections()
	})
}

// CertPool trusts the proxy's certificate (TLS proxies only; nil otherwise).
func (p *Proxy) CertPool() *x509.CertPool {
	if p.srv.Certificate() == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.srv.Certificate())
	return pool
}

// Client is an HTTP client that trusts the proxy's certificate.
func (p *Proxy) Client() *http.Client { return p.srv.Client() }

// AddFault adds a rule after those already there.
func (p *Proxy) AddFault(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &f)
}

// ClearFaults removes every rule, so that a test can run a clean phase.
func (p *Proxy) ClearFaults() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

// Trace returns the completed requests, in the order they ended.
func (p *Proxy) Trace() []Span {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Span(nil), p.spans...)
}

// Count returns how many requests matched m (the zero Match counts all).
func (p *Proxy) Count(m Match) int {
	n := 0
	for _, s := range p.Trace() {
		if m.matchSpan(s) {
			n++
		}
	}
	return n
}

// Reset forgets the trace (the faults stay).
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spans = nil
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request, rp *httputil.ReverseProxy) {
	span := Span{Method: r.Method, Path: r.URL.EscapedPath(), Start: time.Now()}
	span.Action, span.Resource = awsAction(r)
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		span.End = time.Now()
		span.Status = rec.status
		p.mu.Lock()
		p.spans = append(p.spans, span)
		p.mu.Unlock()
	}()
	if !p.wait(r.Context(), p.latency) {
		span.Fault = "client gave up during the latency"
		return
	}
	if f := p.takeFault(span); f != nil {
		span.Fault = f.Kind.String()
		f.serve(rec, r, p.closing)
		return
	}
	rp.ServeHTTP(rec, r)
}

// wait sleeps d unless the request or the proxy ends first.
func (p *Proxy) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-p.closing:
		return false
	}
}

// takeFault returns the first rule that matches and still has times left,
// using one of them up.
func (p *Proxy) takeFault(s Span) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.faults {
		if f.Times < 0 || !f.Match.matchSpan(s) {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				f.Times = -1 // used up; 0 would mean "always"
			}
		}
		served := *f
		return &served
	}
	return nil
}

// awsAction finds the operation of an AWS request: the Action of a query
// protocol form (IAM, STS) or the X-Amz-Target of a JSON protocol. The body
// is read (bounded) and put back for the peer.
func awsAction(r *http.Request) (action, resource string) {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		_, op, _ := strings.Cut(t, ".")
		return op, ""
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || r.Body == nil {
		return "", ""
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxInspectBody))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil {
		return "", ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", ""
	}
	for _, k := range []string{"RoleName", "OpenIDConnectProviderArn", "PolicyArn", "Url"} {
		if v := form.Get(k); v != "" {
			resource = v
			break
		}
	}
	return form.Get("Action"), resource
}

// statusRecorder remembers the status the proxy answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (for resets).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
