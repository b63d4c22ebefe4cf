package gitlabfake

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Server is a fake served over a real socket for the length of a test.
type Server struct {
	*Fake
	// URL is the instance URL (no /api/v4), e.g. http://127.0.0.1:41234.
	URL string
}

// Start serves a new, empty fake on 127.0.0.1 until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return Serve(t, New())
}

// Serve serves f on 127.0.0.1 until the test ends; f's web URLs then point
// at the server.
func Serve(t testing.TB, f *Fake) *Server {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.SetBaseURL(srv.URL)
	return &Server{Fake: f, URL: srv.URL}
}

// Transport serves every request with the fake in-process, whatever host
// the URL names, so a client pointed at https://gitlab.com talks to the
// fake and nothing leaves the machine (setup --demo).
func (f *Fake) Transport() http.RoundTripper { return transport{f} }

type transport struct{ f *Fake }

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.f.ServeHTTP(rec, req)
	if req.Body != nil {
		_ = req.Body.Close()
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
