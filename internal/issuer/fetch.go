package issuer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// maxRedirects bounds same-host redirects.
const maxRedirects = 5

// fetcher makes the GETs of one probe.
type fetcher struct {
	client    *http.Client
	transport *http.Transport // nil when the caller supplied the client
	opts      Options
}

// newFetcher builds the HTTP client. The built-in transport dials through
// dialer (so AllowPrivate holds), uses no proxy (STS connects directly) and
// does not verify certificates itself: the probe reads the documents even
// from an untrusted server so that it can report on them, and records the
// TLS verdict separately in TLSInfo.
func newFetcher(opts Options) *fetcher {
	f := &fetcher{opts: opts}
	var c http.Client
	if opts.Client != nil {
		c = *opts.Client
	} else {
		f.transport = &http.Transport{
			DialContext:            dialer{opts}.DialContext,
			TLSClientConfig:        &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, //nolint:gosec // verdict recorded by inspectTLS
			TLSHandshakeTimeout:    opts.Timeout,
			ResponseHeaderTimeout:  opts.Timeout,
			MaxResponseHeaderBytes: 64 << 10,
		}
		c.Transport = f.transport
	}
	c.CheckRedirect = checkRedirect
	f.client = &c
	return f
}

func (f *fetcher) close() {
	if f.transport != nil {
		f.transport.CloseIdleConnections()
	}
}

// redirectError records a redirect STS would not follow.
type redirectError struct{ to string }

func (e *redirectError) Error() string {
	return fmt.Sprintf("redirected to %s: STS does not follow redirects to another host; serve the document at the issuer URL itself", e.to)
}

// checkRedirect follows redirects on the same scheme and host only.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if req.URL.Scheme != "https" || req.URL.Host != first.Host {
		return &redirectError{to: req.URL.String()}
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("more than %d redirects", maxRedirects)
	}
	return nil
}

// get fetches rawURL within Options.Timeout and returns the record and the
// body; the body is nil unless the status is 200 and it fits MaxBody.
func (f *fetcher) get(ctx context.Context, rawURL string) (Fetch, []byte) {
	rec := Fetch{URL: rawURL}
	start := time.Now()
	defer func() { rec.Duration = time.Since(start) }()
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		rec.Err = err.Error()
		return rec, nil
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "gitlab-oidc-probe")
	resp, err := f.client.Do(req)
	if err != nil {
		rec.Err = describeErr(ctx, err, f.opts.Timeout)
		return rec, nil
	}
	defer resp.Body.Close()
	rec.Status = resp.StatusCode
	rec.ContentType = resp.Header.Get("Content-Type")
	rec.CacheControl = resp.Header.Get("Cache-Control")
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBody+1))
	rec.Bytes = int64(len(body))
	switch {
	case err != nil:
		rec.Err = "reading the body: " + describeErr(ctx, err, f.opts.Timeout)
	case rec.Bytes > f.opts.MaxBody:
		rec.Err = "body larger than " + byteSize(f.opts.MaxBody)
	case resp.StatusCode != http.StatusOK:
		rec.Err = statusError(resp)
		rec.RateLimited = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusForbidden
	default:
		return rec, body
	}
	return rec, nil
}

// statusError explains a non-200 answer; STS needs 200.
func statusError(resp *http.Response) string {
	msg := "HTTP " + resp.Status
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		msg += ": the issuer rate-limits; STS makes many requests and then fails with InvalidIdentityToken"
	case http.StatusForbidden:
		msg += ": a WAF or ingress rule is probably blocking requests from AWS"
	case http.StatusNotFound:
		msg += ": the document is not at this URL"
	}
	return msg
}

// describeErr turns a request error into one line: timeouts say the limit,
// redirects and private addresses keep their own explanation.
func describeErr(ctx context.Context, err error, timeout time.Duration) string {
	var re *redirectError
	var pe *PrivateAddressError
	switch {
	case errors.As(err, &re):
		return re.Error()
	case errors.As(err, &pe):
		return pe.Error()
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timed out after %v (STS gives up after about 5 s)", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// byteSize prints n in MiB or KiB when it is a whole number of them.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
