package netproxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// echo is the peer: it answers 200 "ok <path>" and counts what reached it.
func echo(t *testing.T, reached *int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*reached++
		_, _ = io.WriteString(w, "ok "+r.URL.Path+" host="+r.Host)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLatencyAndTrace(t *testing.T) {
	var reached int
	p := Start(t, echo(t, &reached).URL, Options{Latency: 30 * time.Millisecond})
	start := time.Now()
	resp, err := http.Get(p.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Errorf("request took %v, want at least the 30ms latency", took)
	}
	if !strings.HasPrefix(string(body), "ok /a host="+strings.TrimPrefix(p.URL, "http://")) {
		t.Errorf("body = %q: the peer should see the path and the Host the client used", body)
	}
	tr := p.Trace()
	if len(tr) != 1 || tr[0].Name() != "GET /a" || tr[0].Status != 200 || tr[0].Duration() < 30*time.Millisecond {
		t.Fatalf("trace = %+v", tr)
	}
	if reached != 1 || p.Count(Match{}) != 1 {
		t.Fatalf("reached %d, counted %d", reached, p.Count(Match{}))
	}
}

func TestAWSActionIsReadFromTheFormAndTheBodyStillArrives(t *testing.T) {
	var got url.Values
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = r.PostForm
	}))
	t.Cleanup(peer.Close)
	p := Start(t, peer.URL, Options{Latency: -1})
	form := url.Values{"Action": {"GetRole"}, "RoleName": {"deploy"}, "Version": {"2010-05-08"}}
	resp, err := http.PostForm(p.URL+"/", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("RoleName") != "deploy" {
		t.Fatalf("peer got %v: the body was lost", got)
	}
	if s := p.Trace()[0]; s.Action != "GetRole" || s.Resource != "deploy" {
		t.Fatalf("span = %+v", s)
	}
}

func TestFaults(t *testing.T) {
	tests := map[string]struct {
		fault      Fault
		wantStatus []int // per request; 0 = transport error
		wantBody   string
	}{
		"throttle twice then forward": {
			fault:      AWSThrottle("CreateRole", 2),
			wantStatus: []int{400, 400, 200},
			wantBody:   "<Code>Throttling</Code>",
		},
		"permanent 503": {
			fault:      AWSServerError("CreateRole", 503, 0),
			wantStatus: []int{503, 503, 503},
			wantBody:   "ServiceUnavailable",
		},
		"gitlab 429 once": {
			fault:      RateLimited(Match{Method: "POST"}, 1500*time.Millisecond, 1),
			wantStatus: []int{429, 200},
			wantBody:   "Retry later",
		},
		"reset once": {
			fault:      ResetConn(Match{Path: "/*"}, 1),
			wantStatus: []int{0, 200},
		},
		"other action untouched": {
			fault:      AWSThrottle("DeleteRole", 0),
			wantStatus: []int{200, 200},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var reached int
			p := Start(t, echo(t, &reached).URL, Options{Latency: -1, Faults: []Fault{tc.fault}})
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			forwarded := 0
			for i, want := range tc.wantStatus {
				resp, err := client.PostForm(p.URL+"/", url.Values{"Action": {"CreateRole"}})
				if want == 0 {
					if err == nil {
						resp.Body.Close()
						t.Fatalf("request %d: got %d, want a connection error", i, resp.StatusCode)
					}
					continue
				}
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, want)
				}
				if want == 200 {
					forwarded++
				} else if !strings.Contains(string(body), tc.wantBody) {
					t.Fatalf("request %d: body %q lacks %q", i, body, tc.wantBody)
				}
				if want == 429 && resp.Header.Get("Retry-After") != "2" {
					t.Fatalf("Retry-After = %q, want 2 (whole seconds, rounded up)", resp.Header.Get("Retry-After"))
				}
			}
			if reached != forwarded {
				t.Fatalf("peer reached %d times, want %d (faults must not reach it)", reached, forwarded)
			}
		})
	}
}

func TestHangEndsWhenTheClientGivesUpOrTheProxyCloses(t *testing.T) {
	var reached int
	p, err := New(echo(t, &reached).URL, Options{Latency: -1, Faults: []Fault{HangUp(Match{}, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/x", nil)
	start := time.Now()
	_, err = http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("hang outlived the client's deadline: %v", took)
	}
	// A second hanging request is released by Close, which must not block.
	go func() { _, _ = http.Get(p.URL + "/y") }()
	time.Sleep(50 * time.Millisecond)
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close blocked on a hanging request")
	}
	if reached != 0 {
		t.Fatalf("a hung request reached the peer")
	}
}

func TestTLSProxyInFrontOfATLSPeer(t *testing.T) {
	peer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "issuer at https://"+r.Host)
	}))
	t.Cleanup(peer.Close)
	p := Start(t, peer.URL, Options{TLS: true, Latency: 10 * time.Millisecond})
	if !strings.HasPrefix(p.URL, "https://") || p.CertPool() == nil {
		t.Fatalf("URL %s: want an https proxy with a certificate", p.URL)
	}
	resp, err := p.Client().Get(p.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "issuer at "+p.URL {
		t.Fatalf("body = %q, want the proxy's own URL as the issuer", body)
	}
}
