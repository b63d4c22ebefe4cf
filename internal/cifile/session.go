package cifile

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// varShape is what a predefined variable's value can look like.
type varShape struct {
	maxLen int
	// safe is true when every character is within STS's [\w+=,.@-].
	safe bool
	why  string // example of a bad value, for the reason text
}

// predefined lists the GitLab variables people put into session names.
// Numeric IDs are at most 19 digits (int64); slugs are cut to 63 bytes of
// [a-z0-9-] by GitLab.
var predefined = map[string]varShape{
	"CI_PROJECT_ID":                       {19, true, ""},
	"CI_JOB_ID":                           {19, true, ""},
	"CI_PIPELINE_ID":                      {19, true, ""},
	"CI_PIPELINE_IID":                     {19, true, ""},
	"CI_RUNNER_ID":                        {19, true, ""},
	"CI_CONCURRENT_ID":                    {19, true, ""},
	"CI_CONCURRENT_PROJECT_ID":            {19, true, ""},
	"CI_MERGE_REQUEST_IID":                {19, true, ""},
	"CI_MERGE_REQUEST_ID":                 {19, true, ""},
	"CI_PROJECT_NAMESPACE_ID":             {19, true, ""},
	"GITLAB_USER_ID":                      {19, true, ""},
	"CI_COMMIT_SHORT_SHA":                 {8, true, ""},
	"CI_COMMIT_SHA":                       {40, true, ""},
	"CI_COMMIT_REF_SLUG":                  {63, true, ""},
	"CI_PROJECT_PATH_SLUG":                {63, true, ""},
	"CI_ENVIRONMENT_SLUG":                 {24, true, ""},
	"CI_PROJECT_NAME":                     {255, true, ""},
	"GITLAB_USER_LOGIN":                   {255, true, ""},
	"CI_COMMIT_REF_NAME":                  {255, false, "feature/login"},
	"CI_COMMIT_BRANCH":                    {255, false, "feature/login"},
	"CI_COMMIT_TAG":                       {255, false, "release/1.0"},
	"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": {255, false, "feature/login"},
	"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": {255, false, "release/1.0"},
	"CI_PROJECT_PATH":                     {255, false, "group/project"},
	"CI_PROJECT_NAMESPACE":                {255, false, "group/subgroup"},
	"CI_PROJECT_TITLE":                    {255, false, "My Project"},
	"CI_JOB_NAME":                         {255, false, "deploy: prod"},
	"CI_JOB_NAME_SLUG":                    {63, true, ""},
	"CI_ENVIRONMENT_NAME":                 {255, false, "review/feature x"},
	"GITLAB_USER_EMAIL":                   {255, true, ""},
	"GITLAB_USER_NAME":                    {255, false, "Jane Doe"},
}

var (
	sessionVar  = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::(\d+)(?::(\d+))?)?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
	sessionSafe = regexp.MustCompile(`^[\w+=,.@-]*$`)
)

const maxSessionName = 64

// SessionNameRisk judges a --role-session-name expression as written in a
// script. STS requires 2 to 64 characters of [\w+=,.@-]; a name built from
// branch names, project paths or job names can break either rule on some
// refs only, so this reasons about every value the variables can take, not
// about one run. Unknown variables and command substitutions cannot be
// judged: they are not reported as risky, but the reason says so.
func SessionNameRisk(expr string) (reason string, risky bool) {
	if strings.Contains(expr, "$(") || strings.Contains(expr, "`") {
		return "the session name runs a command; its output cannot be checked here", false
	}
	literal := sessionVar.ReplaceAllString(expr, "")
	if !sessionSafe.MatchString(literal) {
		bad := sessionVar.ReplaceAllString(expr, "")
		return fmt.Sprintf("the literal part %q contains characters outside [\\w+=,.@-]", bad), true
	}
	maxLen := len(literal)
	var unknown []string
	for _, m := range sessionVar.FindAllStringSubmatch(expr, -1) {
		name := m[1] + m[4]
		shape, known := predefined[name]
		if !known {
			unknown = append(unknown, name)
			continue
		}
		length := shape.maxLen
		if m[3] != "" { // ${VAR:offset:length}
			if n, err := strconv.Atoi(m[3]); err == nil && n < length {
				length = n
			}
		}
		if !shape.safe {
			return fmt.Sprintf("%s can contain characters STS rejects (e.g. %q): use CI_PROJECT_ID, CI_JOB_ID or CI_PIPELINE_ID", name, shape.why), true
		}
		maxLen += length
	}
	if maxLen > maxSessionName {
		return fmt.Sprintf("the session name can be %d characters long, over STS's %d: use numeric IDs such as gitlab-${CI_PROJECT_ID}-${CI_JOB_ID}", maxLen, maxSessionName), true
	}
	if len(unknown) > 0 {
		return fmt.Sprintf("uses %s, which this check does not know; make sure it stays within 64 characters of [\\w+=,.@-]", strings.Join(unknown, ", ")), false
	}
	if maxLen < 2 && len(sessionVar.FindAllString(expr, -1)) == 0 {
		return "the session name is shorter than STS's minimum of 2 characters", true
	}
	return "", false
}
