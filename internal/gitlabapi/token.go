package gitlabapi

import (
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// TokenFromEnvironment finds a GitLab token for host without asking: the
// GITLAB_TOKEN environment variable first, then the token glab (the GitLab
// CLI) stored for that host. source says where it came from, for messages
// such as "token from glab config ~/.config/glab-cli/config.yml"; it never
// contains the token. Both are empty when nothing was found.
func TokenFromEnvironment(host string) (token, source string) {
	if t := strings.TrimSpace(os.Getenv("GITLAB_TOKEN")); t != "" {
		return t, "GITLAB_TOKEN"
	}
	path := glabConfigPath()
	if path == "" {
		return "", ""
	}
	if t := glabToken(path, host); t != "" {
		return t, "glab config " + path
	}
	return "", ""
}

// glabConfigPath follows glab's own lookup: GLAB_CONFIG_DIR, then
// XDG_CONFIG_HOME/glab-cli, then ~/.config/glab-cli.
func glabConfigPath() string {
	if d := os.Getenv("GLAB_CONFIG_DIR"); d != "" {
		return filepath.Join(d, "config.yml")
	}
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "glab-cli", "config.yml")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "glab-cli", "config.yml")
}

// glabToken reads hosts.<host>.token from glab's config.yml. A token kept in
// the system keyring (glab's --use-keyring) is not in the file and is not
// found here.
func glabToken(path, host string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var cfg struct {
		Hosts map[string]struct {
			Token string `yaml:"token"`
		} `yaml:"hosts"`
	}
	if yaml.Unmarshal(data, &cfg) != nil {
		return ""
	}
	host = strings.ToLower(host)
	for name, h := range cfg.Hosts {
		if strings.ToLower(name) == host {
			return strings.TrimSpace(h.Token)
		}
	}
	return ""
}
