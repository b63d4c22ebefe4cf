package diagnose

import (
	"bufio"
	"bytes"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MaxLogBytes bounds how much of a job log is read. Logs are kept from the
// end, because the failure is at the end.
const MaxLogBytes = 20 << 20

// Tools that print STS errors, as STSError.Tool names them.
const (
	ToolAWSCLI    = "aws-cli"
	ToolAWSCLIv1  = "aws-cli v1"
	ToolAWSCLIv2  = "aws-cli v2"
	ToolBoto      = "boto3"
	ToolGoSDKv2   = "Go SDK v2"
	ToolGoSDKv1   = "Go SDK v1"
	ToolTerraform = "Terraform"
	ToolSDK       = "SDK"
)

// STSError is an AssumeRoleWithWebIdentity failure recognised in a log or an
// error message. Code is normalised ("InvalidIdentityTokenException" becomes
// "InvalidIdentityToken", "ExpiredTokenException" "ExpiredToken"); Message is
// masked.
type STSError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Tool    string `json:"tool,omitempty"`
	// Line is the 1-based line of the log (0 for a bare error text).
	Line int `json:"line,omitempty"`
	// At is the time the error was printed, when the log says (zero
	// otherwise).
	At time.Time `json:"at,omitzero"`
}

// LogScan is what a job log or error text tells about the failure. Every
// string in it has gone through MaskSecrets.
type LogScan struct {
	// STS is the last STS error in the log: the one that failed the job.
	STS *STSError
	// RoleARNEmpty is set when the role ARN reached the CLI or STS empty;
	// RoleARNLine quotes the line that shows it.
	RoleARNEmpty bool
	RoleARNLine  string
	// RegionMissing quotes the line that says no region was configured.
	RegionMissing string
	// ProviderIDLine quotes a command line that passes --provider-id.
	ProviderIDLine string
	// LegacyJWTLine quotes a line that uses CI_JOB_JWT(_V2/_FILE).
	LegacyJWTLine string
	// CLIVersion is the aws CLI version the log prints (aws-cli/2.15.30).
	CLIVersion string
	// FailureTime is the best estimate of when the exchange failed: the
	// timestamp of the error line, else the nearest section marker or "Job
	// failed" line after it, else the last time the log shows.
	FailureTime time.Time
	JobFailed   bool
	// Truncated is set when the log was longer than MaxLogBytes and only
	// its end was read.
	Truncated bool
	// Lines is the number of lines scanned.
	Lines int
}

var (
	// An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized ...
	cliErrRe = regexp.MustCompile(`An error occurred \(([A-Za-z]+)\) when calling the (AssumeRoleWithWebIdentity|AssumeRole) operation(?: \(reached max retries: \d+\))?: (.*)`)
	// operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 403, RequestID: x, api error AccessDenied: Not ...
	goV2ErrRe = regexp.MustCompile(`operation error STS: AssumeRoleWithWebIdentity, (.*)`)
	goV2Tail  = regexp.MustCompile(`(?:api error )?([A-Z][A-Za-z]+): (.*)$`)
	// WebIdentityErr: failed to retrieve credentials\ncaused by: AccessDenied: Not authorized ...
	causedByRe = regexp.MustCompile(`caused by: ([A-Z][A-Za-z]+): (.*)`)
	// Node SDK v3 and others: "InvalidIdentityTokenException: Couldn't ..."
	bareErrRe = regexp.MustCompile(`\b(InvalidIdentityToken(?:Exception)?|ExpiredToken(?:Exception)?|IDPCommunicationError(?:Exception)?|IDPRejectedClaim(?:Exception)?|AccessDenied(?:Exception)?): (.+)`)

	cliVersionRe = regexp.MustCompile(`aws-cli/(\d+)\.(\d+)\.(\d+)`)
	// 2024-06-05T13:31:44.190403Z 00O  (GitLab runner timestamps, FF_TIMESTAMPS)
	tsPrefixRe = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))(?: [0-9a-f]{2}[OE]\+?)? ?`)
	sectionRe  = regexp.MustCompile(`section_(?:start|end):(\d{9,11}):`)
	ansiRe     = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

	roleARNEmptyRe = regexp.MustCompile(`argument --role-arn: expected one argument|Value null at 'roleArn'|at 'roleArn' failed to satisfy constraint|has no role ARN configured|RoleArn.*(?:must not be empty|is required|cannot be empty)|Member must have length greater than or equal to 20`)
	regionRe       = regexp.MustCompile(`You must specify a region|an AWS region is required, but was not found|MissingRegion|NoRegionError|Missing Region`)
	providerIDRe   = regexp.MustCompile(`--provider-id\b|ProviderId\s*[:=]`)
	legacyJWTRe    = regexp.MustCompile(`\bCI_JOB_JWT(?:_V1|_V2|_FILE)?\b`)
)

// ScanLog reads a job log (at most MaxLogBytes, keeping the end) and
// recognises the STS failure in it. It never returns secrets: every quoted
// line is masked.
func ScanLog(r io.Reader) (LogScan, error) {
	text, truncated, err := readTail(r, MaxLogBytes)
	if err != nil {
		return LogScan{}, err
	}
	s := ScanText(text)
	s.Truncated = truncated
	return s, nil
}

// readTail reads r and keeps its last max bytes; truncated says whether
// anything was dropped. A line cut at the start is dropped too.
func readTail(r io.Reader, max int) (string, bool, error) {
	buf := make([]byte, 0, 64<<10)
	chunk := make([]byte, 64<<10)
	truncated := false
	for {
		n, err := r.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if len(buf) > 2*max {
			buf = append(buf[:0], buf[len(buf)-max:]...)
			truncated = true
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", false, err
		}
	}
	if len(buf) > max {
		buf = buf[len(buf)-max:]
		truncated = true
	}
	if truncated {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	return string(buf), truncated, nil
}

// logLine is one line of a log with its time, if the log carries one.
type logLine struct {
	n    int
	at   time.Time
	text string
}

// ScanText recognises an STS failure in an error message or a whole log.
func ScanText(text string) LogScan {
	var s LogScan
	lines := splitLog(text)
	s.Lines = len(lines)
	var last time.Time
	var pendingFailure bool // an STS error was seen without its own time
	for i, l := range lines {
		if !l.at.IsZero() {
			last = l.at
			if pendingFailure {
				s.FailureTime, pendingFailure = l.at, false
			}
		}
		if e := parseSTSLine(lines, i); e != nil {
			s.STS = e
			s.FailureTime, pendingFailure = l.at, l.at.IsZero()
			if t, ok := expiredNow(e.Message); ok && l.at.IsZero() {
				s.FailureTime, pendingFailure = t, false
			}
		}
		s.scanMarkers(l)
	}
	if s.STS != nil {
		s.STS.At = s.FailureTime
		s.STS.Tool = detectTool(text, s.STS.Tool)
		if m := cliVersionRe.FindStringSubmatch(text); m != nil && strings.HasPrefix(s.STS.Tool, ToolAWSCLI) {
			s.STS.Tool = ToolAWSCLI + " v" + m[1]
		}
		if s.STS.Code == "ValidationError" && roleARNEmptyRe.MatchString(s.STS.Message) && !s.RoleARNEmpty {
			s.RoleARNEmpty, s.RoleARNLine = true, s.STS.Message
		}
	}
	if m := cliVersionRe.FindString(text); m != "" {
		s.CLIVersion = strings.TrimPrefix(m, "aws-cli/")
	}
	if s.FailureTime.IsZero() {
		s.FailureTime = last
	}
	return s
}

// scanMarkers records the lines that point at a cause by themselves.
// The cheap strings.Contains checks keep a 20 MiB log fast: most lines
// match none of the expressions.
func (s *LogScan) scanMarkers(l logLine) {
	t := l.text
	switch {
	case !s.RoleARNEmpty && containsAny(t, "ole-arn", "oleArn", "ole ARN", "Member must have length") && roleARNEmptyRe.MatchString(t):
		s.RoleARNEmpty, s.RoleARNLine = true, quote(t)
	case s.RegionMissing == "" && containsAny(t, "egion") && regionRe.MatchString(t):
		s.RegionMissing = quote(t)
	}
	if s.ProviderIDLine == "" && containsAny(t, "rovider") && providerIDRe.MatchString(t) {
		s.ProviderIDLine = quote(t)
	}
	if s.LegacyJWTLine == "" && strings.Contains(t, "CI_JOB_JWT") && legacyJWTRe.MatchString(t) {
		s.LegacyJWTLine = quote(t)
	}
	if strings.Contains(l.text, "Job failed") || strings.HasPrefix(l.text, "ERROR: Job failed") {
		s.JobFailed = true
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// quote masks a line and bounds its length for the report.
func quote(line string) string {
	line = strings.TrimSpace(MaskSecrets(line))
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return line
}

// splitLog splits a log into lines, strips ANSI colours, carriage-return
// overwrites and GitLab's timestamp prefix, and dates each line from that
// prefix or from a section marker.
func splitLog(text string) []logLine {
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), MaxLogBytes+1)
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		l := logLine{n: n}
		if raw != "" && raw[0] >= '0' && raw[0] <= '9' {
			if m := tsPrefixRe.FindStringSubmatch(raw); m != nil {
				if t, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
					l.at = t.UTC()
				}
				raw = raw[len(m[0]):]
			}
		}
		if m := sectionMatch(raw); m != nil && l.at.IsZero() {
			if sec, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				l.at = time.Unix(sec, 0).UTC()
			}
		}
		if strings.IndexByte(raw, 0x1b) >= 0 {
			raw = ansiRe.ReplaceAllString(raw, "")
		}
		// "section_start:1:name\r\x1b[0Ktext": the part after the last
		// carriage return is what a terminal shows.
		if i := strings.LastIndexByte(raw, '\r'); i >= 0 && i < len(raw)-1 {
			raw = raw[i+1:]
		}
		l.text = strings.TrimRight(raw, "\r")
		out = append(out, l)
	}
	return out
}

// sectionMatch finds a "section_start:<unix>:" or "section_end:" marker.
func sectionMatch(s string) []string {
	if !strings.Contains(s, "section_") {
		return nil
	}
	return sectionRe.FindStringSubmatch(s)
}

// parseSTSLine recognises an STS error on line i (and, for the Go SDK v1
// "caused by:" form, the line after a WebIdentityErr).
func parseSTSLine(lines []logLine, i int) *STSError {
	text := lines[i].text
	if !containsAny(text, "AssumeRoleWithWebIdentity", "WebIdentityErr", "Token", "AccessDenied", "IDP") {
		return nil
	}
	mk := func(code, msg, tool string) *STSError {
		return &STSError{Code: normaliseCode(code), Message: quote(msg), Tool: tool, Line: lines[i].n}
	}
	if m := cliErrRe.FindStringSubmatch(text); m != nil {
		tool := ToolAWSCLI
		if strings.Contains(text, "botocore") {
			tool = ToolBoto
		}
		return mk(m[1], m[3], tool)
	}
	if m := goV2ErrRe.FindStringSubmatch(text); m != nil {
		if t := goV2Tail.FindStringSubmatch(lastErrorPart(m[1])); t != nil {
			return mk(t[1], t[2], ToolGoSDKv2)
		}
		return mk("Unknown", m[1], ToolGoSDKv2)
	}
	if strings.Contains(text, "WebIdentityErr") {
		for j := i; j < len(lines) && j <= i+3; j++ {
			if m := causedByRe.FindStringSubmatch(lines[j].text); m != nil {
				return mk(m[1], m[2], ToolGoSDKv1)
			}
		}
	}
	if m := bareErrRe.FindStringSubmatch(text); m != nil && !strings.Contains(text, "caused by:") {
		return mk(m[1], m[2], ToolSDK)
	}
	return nil
}

// lastErrorPart drops the SDK's "https response error StatusCode: 403,
// RequestID: ..., " preamble, keeping "api error Code: message".
func lastErrorPart(s string) string {
	if i := strings.Index(s, "api error "); i >= 0 {
		return s[i:]
	}
	if i := strings.LastIndex(s, "RequestID: "); i >= 0 {
		rest := s[i:]
		if j := strings.Index(rest, ", "); j >= 0 {
			return rest[j+2:]
		}
	}
	return s
}

// normaliseCode maps the SDKs' exception names to STS's error codes.
func normaliseCode(code string) string {
	return strings.TrimSuffix(code, "Exception")
}

// detectTool refines the tool from the rest of the log: Terraform wraps
// the Go SDK's errors, and the aws CLI prints its version in debug output.
func detectTool(text, tool string) string {
	if tool != ToolGoSDKv1 && tool != ToolGoSDKv2 {
		return tool
	}
	if strings.Contains(text, "Terraform AWS Provider") || strings.Contains(text, "terraform ") || strings.Contains(text, "│ Error:") {
		return ToolTerraform
	}
	return tool
}

// expiredRe reads "Token expired: current date/time 1624482533 must be
// before the expiration date/time1624482335".
var expiredRe = regexp.MustCompile(`current date/time\s*(\d{9,11})\s*must be before the expiration date/time\s*(\d{9,11})`)

// expiredNow returns the current time STS reported in an ExpiredToken
// message.
func expiredNow(msg string) (time.Time, bool) {
	now, _, ok := expiredTimes(msg)
	return now, ok
}

// expiredTimes returns both times of an ExpiredToken message.
func expiredTimes(msg string) (now, exp time.Time, ok bool) {
	m := expiredRe.FindStringSubmatch(msg)
	if m == nil {
		return time.Time{}, time.Time{}, false
	}
	a, _ := strconv.ParseInt(m[1], 10, 64)
	b, _ := strconv.ParseInt(m[2], 10, 64)
	return time.Unix(a, 0).UTC(), time.Unix(b, 0).UTC(), true
}
