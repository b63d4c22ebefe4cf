// Package gitremote finds the GitLab instance and project of a working copy
// from its origin remote, so setup can start without asking for them.
package gitremote

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
)

// Remote is where a working copy's origin points, as GitLab coordinates.
type Remote struct {
	// Host is the web host without port ("gitlab.com").
	Host string
	// BaseURL is the instance URL guessed from the remote
	// ("https://gitlab.com"). For SSH remotes it assumes HTTPS on the same
	// host; an instance under a relative URL root cannot be told from an
	// HTTPS remote either, so callers should let the user override it.
	BaseURL string
	// ProjectPath is the project's full path ("group/sub/project").
	ProjectPath string
	// URL is the remote URL with any credentials removed, safe to show.
	URL string
}

// IsGitLab reports whether the remote points at GitLab: the host names
// GitLab, or it is one of knownHosts (hosts or URLs the caller already
// knows are GitLab, such as a configured --gitlab-url).
func (r Remote) IsGitLab(knownHosts ...string) bool {
	if LooksLikeGitLab(r.Host) {
		return true
	}
	for _, k := range knownHosts {
		if u, err := url.Parse(k); err == nil && u.Host != "" {
			k = u.Hostname()
		}
		if strings.EqualFold(k, r.Host) {
			return true
		}
	}
	return false
}

// LooksLikeGitLab is the name heuristic alone: the host contains "gitlab".
func LooksLikeGitLab(host string) bool {
	return strings.Contains(strings.ToLower(host), "gitlab")
}

// Detect reads `git remote get-url origin` in dir and parses it.
func Detect(dir string) (Remote, error) {
	cmd := exec.Command("git", "-C", dir, "remote", "get-url", "origin")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		msg := strings.TrimSpace(stderr.String())
		if errors.As(err, &exitErr) && msg != "" {
			return Remote{}, fmt.Errorf("read the origin remote in %s: %s; pass the project with --project group/project", dir, firstLine(msg))
		}
		return Remote{}, fmt.Errorf("read the origin remote in %s: %w; pass the project with --project group/project", dir, err)
	}
	return Parse(strings.TrimSpace(string(out)))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Parse understands the remote forms git accepts for a hosted project:
// git@host:group/proj.git, ssh://git@host:2222/group/proj.git,
// https://user:token@host/group/proj.git and http(s) with a port.
func Parse(raw string) (Remote, error) {
	if raw == "" {
		return Remote{}, errors.New("the origin remote has no URL")
	}
	var host, scheme, port, p string
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			// url.Parse's error repeats the URL, credentials included.
			return Remote{}, errors.New("the origin remote is not a URL git understands; pass --project and --gitlab-url")
		}
		host, port, p = u.Hostname(), u.Port(), u.Path
		switch u.Scheme {
		case "https", "http":
			scheme = u.Scheme
		case "ssh", "git+ssh", "ssh+git", "git":
			scheme, port = "https", "" // the SSH or git port says nothing about the web port
		default:
			return Remote{}, fmt.Errorf("origin remote %s is a %s URL, not a hosted project; pass --project and --gitlab-url", redact(raw), u.Scheme)
		}
		// An SSH user name ("git") is no secret; HTTP user info may be a token.
		if u.User != nil && (u.Scheme == "https" || u.Scheme == "http" || hasPassword(u)) {
			u.User = nil
		}
		raw = u.String()
	} else {
		// scp-like syntax: [user@]host:path (a colon before any slash).
		colon := strings.Index(raw, ":")
		if colon < 0 || strings.Contains(raw[:colon], "/") {
			return Remote{}, fmt.Errorf("origin remote %q is a local path, not a hosted project; pass --project and --gitlab-url", raw)
		}
		host, p, scheme = raw[:colon], raw[colon+1:], "https"
		if at := strings.LastIndex(host, "@"); at >= 0 {
			host = host[at+1:]
		}
	}
	// GitLab.com's SSH-over-443 endpoint serves the same instance.
	host = strings.TrimPrefix(strings.ToLower(host), "altssh.")
	path := strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	if host == "" || !strings.Contains(path, "/") {
		return Remote{}, fmt.Errorf("origin remote %s does not name a group/project path", redact(raw))
	}
	base := scheme + "://" + host
	if port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		base += ":" + port
	}
	return Remote{Host: host, BaseURL: base, ProjectPath: path, URL: raw}, nil
}

func hasPassword(u *url.URL) bool {
	_, ok := u.User.Password()
	return ok
}

// redact drops userinfo from a URL-looking string for error messages.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return raw
}
