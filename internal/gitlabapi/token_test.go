package gitlabapi_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"gitlab-oidc/internal/gitlabapi"
)

func TestTokenFromEnvironment(t *testing.T) {
	glabDir, _ := filepath.Abs("testdata/glab")
	xdg, _ := filepath.Abs("testdata/xdg")
	tests := map[string]struct {
		env        map[string]string
		host       string
		wantToken  string
		wantSource string
	}{
		"GITLAB_TOKEN wins": {
			env:  map[string]string{"GITLAB_TOKEN": "glpat-env", "GLAB_CONFIG_DIR": glabDir},
			host: "gitlab.com", wantToken: "glpat-env", wantSource: "GITLAB_TOKEN",
		},
		"glab config for the host": {
			env:  map[string]string{"GLAB_CONFIG_DIR": glabDir},
			host: "gitlab.example.org", wantToken: "glpat-fixture-example-org",
			wantSource: "glab config " + filepath.Join(glabDir, "config.yml"),
		},
		"glab config host names are case-insensitive": {
			env:  map[string]string{"GLAB_CONFIG_DIR": glabDir},
			host: "GitLab.com", wantToken: "glpat-fixture-gitlab-com",
			wantSource: "glab config " + filepath.Join(glabDir, "config.yml"),
		},
		"XDG_CONFIG_HOME": {
			env:  map[string]string{"XDG_CONFIG_HOME": xdg},
			host: "gitlab.com", wantToken: "glpat-fixture-from-xdg",
			wantSource: "glab config " + filepath.Join(xdg, "glab-cli", "config.yml"),
		},
		"unknown host": {
			env:  map[string]string{"GLAB_CONFIG_DIR": glabDir},
			host: "gitlab.internal",
		},
		"no config at all": {
			env:  map[string]string{"HOME": "/nonexistent"},
			host: "gitlab.com",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, k := range []string{"GITLAB_TOKEN", "GLAB_CONFIG_DIR", "XDG_CONFIG_HOME"} {
				t.Setenv(k, "")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			token, source := gitlabapi.TokenFromEnvironment(tc.host)
			assert.Equal(t, tc.wantToken, token)
			assert.Equal(t, tc.wantSource, source)
			if token != "" {
				assert.NotContains(t, source, token)
			}
		})
	}
}
