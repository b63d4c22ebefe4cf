package diagnose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gitlab-oidc/internal/awsapi"
	"gitlab-oidc/internal/cifile"
	"gitlab-oidc/internal/gitlabapi"
	"gitlab-oidc/internal/issuer"
	"gitlab-oidc/internal/policy"
	"gitlab-oidc/internal/token"
)

// DefaultSourceTimeout bounds each group of remote reads (IAM, GitLab); the
// issuer probe has its own, shorter bounds (STS's 5 s per request).
const DefaultSourceTimeout = 30 * time.Second

// CollectOptions is what the user gave the doctor. Every field is optional.
type CollectOptions struct {
	// Token is the raw ID token. It is parsed and checked, never stored.
	// TokenGiven marks a token that was passed but is empty (an empty
	// variable is itself a finding).
	Token       string
	TokenGiven  bool
	TokenSource string
	// JWKS is a JWK set to check the signature with (--jwks-file); without
	// it the keys come from the issuer probe.
	JWKS       []byte
	JWKSSource string

	// ErrorText is the STS error message; JobLog the job's log (read up
	// to MaxLogBytes). Without a JobLog, the log is read from GitLab.
	ErrorText string
	JobLog    io.Reader

	RoleARN string
	// TrustPolicy replaces the role's trust policy (--trust-policy).
	TrustPolicy       []byte
	TrustPolicySource string
	// ProviderURL, ClientIDs and Thumbprints describe the provider when
	// IAM cannot be read (or override what it says).
	ProviderURL string
	ClientIDs   []string
	Thumbprints []string
	// MaxSession is the role's MaxSessionDuration in seconds (0: ask IAM).
	MaxSession int32

	// Job names the failing job: JobURL, or Project and JobID.
	JobURL    string
	GitLabURL string
	Project   string
	JobID     int64

	// CIFile is the pipeline file to analyse ("" for none).
	CIFile string

	Offline         bool
	PrivateIssuerOK bool
	// Now fixes the reference time (--now).
	Now time.Time
	// Timeout bounds each remote source (DefaultSourceTimeout when 0).
	Timeout time.Duration
}

// Sources are the remote systems Collect reads. Any may be nil: that part
// of the evidence is then missing, and the report says so.
type Sources struct {
	IAM    awsapi.IAM
	GitLab gitlabapi.Client
	// Probe checks an issuer the way STS does (issuer.Probe with the
	// caller's options).
	Probe func(ctx context.Context, issuerURL string) issuer.Report
}

// Collect gathers the evidence: local inputs first (token, texts, files),
// then IAM, GitLab and the issuer concurrently, each bounded. It fails only
// for unusable inputs (a job URL that is not one, a trust policy file that
// does not parse); anything remote that fails becomes a note.
func Collect(ctx context.Context, opts CollectOptions, src Sources) (*Evidence, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultSourceTimeout
	}
	ev := &Evidence{Offline: opts.Offline, PrivateIssuerOK: opts.PrivateIssuerOK}
	if opts.Offline {
		src = Sources{}
	}
	c := &collector{ev: ev, opts: opts, src: src}
	if err := c.local(); err != nil {
		return nil, err
	}
	c.remote(ctx)
	c.finish()
	return ev, nil
}

// collector carries the state of one Collect call. raw is the token while
// collecting (for the signature check) and is dropped afterwards.
type collector struct {
	ev   *Evidence
	opts CollectOptions
	src  Sources
	raw  string
	keys *jose.JSONWebKeySet
	ref  *JobRef
	ci   *cifile.File
	mu   sync.Mutex
}

func (c *collector) note(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ev.Notes = append(c.ev.Notes, MaskSecrets(fmt.Sprintf(format, args...)))
}

// local reads everything that needs no network.
func (c *collector) local() error {
	o, ev := c.opts, c.ev
	if o.ErrorText != "" {
		ev.ErrorText = MaskSecrets(o.ErrorText)
		s := ScanText(o.ErrorText)
		ev.Log = &s
	}
	if o.JobLog != nil {
		s, err := ScanLog(o.JobLog)
		if err != nil {
			return fmt.Errorf("read the job log: %w", err)
		}
		ev.Log = mergeScans(ev.Log, &s)
	}
	if len(o.JWKS) > 0 {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(o.JWKS, &set); err != nil {
			return fmt.Errorf("JWK set %s is not a JWK set ({\"keys\":[...]}): %w", o.JWKSSource, err)
		}
		c.keys = &set
	}
	if o.Token != "" || o.TokenGiven {
		c.raw = o.Token
		ev.AddToken(o.Token, o.TokenSource, c.keys, o.JWKSSource)
	}
	if o.RoleARN != "" {
		account, name, ok := ParseRoleARN(o.RoleARN)
		if !ok {
			return fmt.Errorf("role ARN %q is not a role ARN (arn:aws:iam::123456789012:role/NAME)", MaskSecrets(o.RoleARN))
		}
		ev.Role = &RoleFacts{ARN: o.RoleARN, AccountID: account, Name: name}
	}
	if len(o.TrustPolicy) > 0 {
		doc, err := policy.Parse(o.TrustPolicy)
		if err != nil {
			return fmt.Errorf("trust policy %s: %w", o.TrustPolicySource, err)
		}
		if ev.Role == nil {
			ev.Role = &RoleFacts{}
		}
		ev.Role.Trust, ev.Role.TrustSource = doc, o.TrustPolicySource
	}
	if o.MaxSession > 0 {
		if ev.Role == nil {
			ev.Role = &RoleFacts{}
		}
		ev.Role.MaxSessionDuration = o.MaxSession
	}
	if o.ProviderURL != "" {
		ev.Providers = &ProviderFacts{List: []Provider{c.flagProvider()}}
	}
	if o.JobURL != "" {
		ref, err := ParseJobURL(o.JobURL, o.GitLabURL)
		if err != nil {
			return err
		}
		c.ref = &ref
	} else if o.Project != "" && o.JobID > 0 {
		c.ref = &JobRef{BaseURL: strings.TrimSuffix(o.GitLabURL, "/"), ProjectPath: o.Project, JobID: o.JobID}
	}
	if o.CIFile != "" {
		f, err := cifile.Read(o.CIFile)
		if err != nil {
			ev.Pipeline = &PipelineFacts{Path: o.CIFile, Err: err.Error()}
			c.note("pipeline file: %v", err)
		} else {
			c.ci = f
		}
	}
	return nil
}

// flagProvider is the provider described by --provider-url and friends. Its
// ARN is known only with the role's account; without it the trust policy's
// own principal is judged by its provider path alone.
func (c *collector) flagProvider() Provider {
	prefix := KeyPrefix(c.opts.ProviderURL)
	p := Provider{URL: prefix, ClientIDs: c.opts.ClientIDs, Thumbprints: c.opts.Thumbprints}
	if c.ev.Role != nil && c.ev.Role.AccountID != "" {
		p.ARN = ProviderARN(c.ev.Role.AccountID, prefix)
	}
	return p
}

// remote reads IAM, GitLab and the issuer concurrently.
func (c *collector) remote(ctx context.Context) {
	var wg sync.WaitGroup
	if c.src.IAM != nil {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
			defer cancel()
			c.readIAM(ctx)
		})
	}
	if c.src.GitLab != nil && c.ref != nil {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
			defer cancel()
			c.readGitLab(ctx)
		})
	}
	if iss := c.issuerURL(); c.src.Probe != nil && iss != "" {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
			defer cancel()
			r := c.src.Probe(ctx, iss)
			c.mu.Lock()
			c.ev.Issuer = &r
			c.mu.Unlock()
		})
	}
	wg.Wait()
}

// issuerURL is the token's iss, or the instance URL a predicted token would
// carry.
func (c *collector) issuerURL() string {
	if c.ev.Token != nil {
		return c.ev.Token.Claims.Issuer
	}
	if c.ref != nil && c.ref.BaseURL != "" && !c.opts.TokenGiven {
		return c.ref.BaseURL
	}
	return ""
}

// finish joins what the sources returned: the signature check with the
// probe's keys, the pipeline job, the prediction and the reference time.
func (c *collector) finish() {
	ev := c.ev
	if ev.Token != nil && ev.Signature == nil && ev.Issuer != nil && ev.Issuer.Keys != nil {
		if tok, err := token.Parse(c.raw); err == nil {
			ev.Signature = verify(tok, ev.Issuer.Keys, ev.Issuer.JWKSURI)
		}
	}
	c.raw = ""
	if c.ci != nil {
		jobName := ""
		if ev.Job != nil {
			jobName = ev.Job.Name
		}
		ev.Pipeline = pipelineFacts(c.opts.CIFile, c.ci, jobName)
		// The jobs API has no environment; the file does (unexpanded
		// variables aside).
		if ev.Job != nil && ev.Job.Environment == "" && ev.Pipeline.Job != nil && !strings.Contains(ev.Pipeline.Job.Environment, "$") {
			ev.Job.Environment = ev.Pipeline.Job.Environment
		}
	}
	if ev.Token == nil && ev.TokenErr == nil && ev.Job != nil {
		var aud []string
		if ev.Pipeline != nil && ev.Pipeline.Job != nil {
			if vars := ev.Pipeline.Job.TokenVars(); len(vars) > 0 {
				aud = ev.Pipeline.Job.IDTokens[vars[0]]
			}
		}
		claims, unknown := PredictClaims(ev.Job, aud)
		ev.Token = &TokenFacts{Claims: claims, Redacted: "(predicted from job " + fmt.Sprint(ev.Job.JobID) + ")"}
		ev.Predicted, ev.Unknown = true, unknown
	}
	c.referenceTime()
}

func (c *collector) referenceTime() {
	ev := c.ev
	switch {
	case !c.opts.Now.IsZero():
		ev.Now, ev.NowSource = c.opts.Now.UTC(), "--now"
	case ev.Log != nil && !ev.Log.FailureTime.IsZero():
		ev.Now, ev.NowSource = ev.Log.FailureTime, "the job log"
	case ev.Job != nil && ev.Job.FinishedAt != "":
		if t, err := time.Parse(time.RFC3339, ev.Job.FinishedAt); err == nil {
			ev.Now, ev.NowSource = t.UTC(), "the job's finished_at"
			return
		}
		fallthrough
	default:
		ev.Now, ev.NowSource = time.Now().UTC().Truncate(time.Second), "the current time"
	}
}

// pipelineFacts picks the job to judge: the failing job when its name is
// known and the file defines it, else the first visible job that exchanges
// a token.
func pipelineFacts(path string, f *cifile.File, jobName string) *PipelineFacts {
	pf := &PipelineFacts{Path: path, Unresolved: f.Unresolved}
	if j, ok := f.Jobs[jobName]; ok && jobName != "" {
		pf.Job, pf.JobName = j, jobName
		return pf
	}
	for _, name := range f.Names() {
		j := f.Jobs[name]
		if j.Hidden {
			continue
		}
		if len(j.STSCalls)+len(j.TokenFileWrites) > 0 || j.UsesLegacyJWT {
			pf.Job, pf.JobName = j, name
			return pf
		}
	}
	return pf
}

// mergeScans combines what the error text and the job log say; the log's
// STS error and times win, being located and dated.
func mergeScans(a, b *LogScan) *LogScan {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	m := *b
	if m.STS == nil {
		m.STS = a.STS
	}
	if !m.RoleARNEmpty && a.RoleARNEmpty {
		m.RoleARNEmpty, m.RoleARNLine = true, a.RoleARNLine
	}
	for _, p := range []struct{ dst, src *string }{
		{&m.RegionMissing, &a.RegionMissing}, {&m.ProviderIDLine, &a.ProviderIDLine},
		{&m.LegacyJWTLine, &a.LegacyJWTLine}, {&m.CLIVersion, &a.CLIVersion},
	} {
		if *p.dst == "" {
			*p.dst = *p.src
		}
	}
	if m.FailureTime.IsZero() {
		m.FailureTime = a.FailureTime
	}
	return &m
}

// isCode reports whether err is an AWS API error with this code.
func isCode(err error, code string) bool {
	var h interface{ ErrorCode() string }
	return errors.As(err, &h) && h.ErrorCode() == code
}
