package main

import "testing"

// The token is looked up by host: an instance under a relative URL root
// must not be looked up as "host/gitlab".
func TestURLHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://gitlab.com":                "gitlab.com",
		"https://git.example.com/gitlab":    "git.example.com",
		"http://127.0.0.1:8080/":            "127.0.0.1:8080",
		"https://Git.Example.com:8443/a/b/": "Git.Example.com:8443",
	} {
		if got := urlHost(in); got != want {
			t.Errorf("urlHost(%q) = %q, want %q", in, got, want)
		}
	}
	if !sameHost("https://GIT.example.com/gitlab", "https://git.example.com") {
		t.Error("hosts differing only in case and path are the same instance")
	}
}
