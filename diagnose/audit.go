package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"gitlab-oidc/internal/policy"
)

// AuditOptions tune the audit of a trust policy.
type AuditOptions struct {
	// GitLabProviders name the OIDC providers to treat as GitLab: hosts as
	// in condition keys ("gitlab.com", "git.example.com/gitlab") or provider
	// ARNs. gitlab.com is always included, and so is any provider whose host
	// contains "gitlab".
	GitLabProviders []string
	// CanWrite says the role can change resources; it raises
	// trust-any-ref from medium to high. AuditRole infers it from the role's
	// permission policies when it is not set.
	CanWrite bool
	// Policies are the role's permission policy documents that were read,
	// keyed by inline policy name or managed policy ARN. AuditRole looks in
	// them for "*" on "*"; AuditTrustPolicy ignores them.
	Policies map[string]*policy.Document
}

// AuditTrustPolicy applies the audit rules of causes.md section F to a
// role's trust policy and returns the findings, worst first. Only Allow
// statements that grant sts:AssumeRoleWithWebIdentity to a GitLab provider
// are audited; a nil document yields nothing.
func AuditTrustPolicy(doc *policy.Document, opts AuditOptions) []Finding {
	if doc == nil {
		return nil
	}
	var out []Finding
	for _, st := range doc.Statements {
		if st.Effect != "Allow" || st.Principal == nil {
			continue
		}
		for _, arn := range st.Principal.Federated {
			host, ok := opts.gitlabHost(arn)
			if !ok || !grantsWebIdentity(st, arn) {
				continue
			}
			out = append(out, auditStatement(newTrustStatement(st, host, arn), opts)...)
		}
	}
	sortAuditFindings(out)
	return out
}

// gitlabHost returns the provider's host (its condition key prefix) when
// the provider ARN names a GitLab instance.
func (o AuditOptions) gitlabHost(arn string) (string, bool) {
	_, host, ok := strings.Cut(arn, ":oidc-provider/")
	if !ok || host == "" {
		return "", false
	}
	lh := strings.ToLower(host)
	if lh == "gitlab.com" || strings.Contains(lh, "gitlab") {
		return host, true
	}
	for _, p := range o.GitLabProviders {
		p = strings.TrimPrefix(strings.ToLower(p), "https://")
		if _, after, ok := strings.Cut(p, ":oidc-provider/"); ok {
			p = after
		}
		if lh == strings.TrimSuffix(p, "/") {
			return host, true
		}
	}
	return "", false
}

// grantsWebIdentity reports whether the statement's Action (or NotAction)
// covers the web identity exchange, using the evaluator's own matching.
func grantsWebIdentity(st policy.Statement, arn string) bool {
	st.Conditions = nil
	dec := policy.Evaluate(&policy.Document{Statements: []policy.Statement{st}},
		policy.Request{Action: policy.ActionWebIdentity, Federated: arn})
	return dec.Allowed
}

// trustStatement is one audited statement with its GitLab-relevant
// conditions sorted out.
type trustStatement struct {
	st     policy.Statement
	name   string
	host   string // condition key prefix, e.g. "gitlab.com"
	arn    string
	dotcom bool
	// subs are the positive conditions on HOST:sub (the ones that narrow who
	// may assume the role); aud likewise.
	subs         []policy.Condition
	aud          []policy.Condition
	projectIDs   []string // gitlab.com:project_id values pinned positively
	namespaceIDs []string // gitlab.com:namespace_id values pinned positively
	protected    bool     // gitlab.com:ref_protected pinned to "true"
}

func newTrustStatement(st policy.Statement, host, arn string) trustStatement {
	name := st.Name()
	if st.Sid != "" {
		name = fmt.Sprintf("statement %q", st.Sid)
	}
	ts := trustStatement{st: st, name: name, host: host, arn: arn, dotcom: strings.EqualFold(host, "gitlab.com")}
	for _, c := range st.Conditions {
		op := policy.ParseOperator(c.Operator)
		if !op.Known || op.Negated || op.Base == "Null" {
			continue
		}
		switch strings.ToLower(c.Key) {
		case ts.key("sub"):
			ts.subs = append(ts.subs, c)
		case ts.key("aud"):
			ts.aud = append(ts.aud, c)
		}
		if !ts.dotcom || !exactOperator(op) {
			continue
		}
		switch strings.ToLower(c.Key) {
		case "gitlab.com:project_id":
			ts.projectIDs = append(ts.projectIDs, c.Values...)
		case "gitlab.com:namespace_id":
			ts.namespaceIDs = append(ts.namespaceIDs, c.Values...)
		case "gitlab.com:ref_protected":
			ts.protected = slices.Equal(c.Values, []string{"true"})
		}
	}
	return ts
}

// key is the lower-cased full condition key for a claim.
func (ts trustStatement) key(claim string) string {
	return strings.ToLower(ts.host + ":" + claim)
}

// exactOperator is true for operators that pin a value without wildcards.
func exactOperator(op policy.Operator) bool {
	return op.Base == "StringEquals" || op.Base == "StringEqualsIgnoreCase" || op.Base == "NumericEquals"
}

func auditStatement(ts trustStatement, opts AuditOptions) []Finding {
	var out []Finding
	out = append(out, ts.operatorFindings()...)
	out = append(out, ts.subFindings(opts)...)
	if len(ts.aud) == 0 {
		out = append(out, Finding{
			ID:       "trust-no-aud-condition",
			Severity: SeverityMedium,
			Title:    fmt.Sprintf("%s does not check %s:aud: a token minted for any audience (another cloud, another service) is accepted", ts.name, ts.host),
			Evidence: []string{fmt.Sprintf("%s trusts %s with no positive condition on %s:aud", ts.name, ts.arn, ts.host)},
			Fix:      "Add to the statement's Condition: " + condJSON("StringEquals", ts.host+":aud", []string{"sts.amazonaws.com"}) + " (the aud of the job's id_tokens entry)",
		})
	}
	return out
}

// operatorFindings flags ForAllValues:, negated operators on claims and
// StringLike without a wildcard.
func (ts trustStatement) operatorFindings() []Finding {
	var out []Finding
	for _, c := range ts.st.Conditions {
		op := policy.ParseOperator(c.Operator)
		if !op.Known {
			continue
		}
		written := condJSON(c.Operator, c.Key, c.Values)
		if op.Set == policy.SetForAllValues {
			plain := strings.TrimPrefix(c.Operator, policy.SetForAllValues+":")
			out = append(out, Finding{
				ID:       "trust-forallvalues-allow",
				Severity: SeverityHigh,
				Title:    fmt.Sprintf("%s uses ForAllValues: in an Allow statement: a token without %s passes the condition", ts.name, c.Key),
				Evidence: []string{fmt.Sprintf("%s: %s", ts.name, written)},
				Fix:      "Replace it with " + condJSON(plain, c.Key, c.Values) + " (no set operator: GitLab claims are single-valued)",
				Detail:   conditionDetail(ts.st.Name(), c, "ForAllValues: is true when the key has no values"),
			})
		}
		if op.Negated && strings.HasPrefix(strings.ToLower(c.Key), strings.ToLower(ts.host)+":") {
			out = append(out, Finding{
				ID:       "trust-negated-operator",
				Severity: SeverityHigh,
				Title:    fmt.Sprintf("%s allows by exclusion (%s): every token that does not match, including one without %s, is accepted", ts.name, op.Base, c.Key),
				Evidence: []string{fmt.Sprintf("%s: %s", ts.name, written)},
				Fix: fmt.Sprintf("Name what is allowed with a positive condition such as %s, and move the exclusion into its own Deny statement, where a missing claim cannot grant access: %s",
					condJSON("StringEquals", c.Key, []string{placeholderFor(c.Key)}), denyJSON(ts.arn, positiveOf(c.Operator), c.Key, c.Values)),
				Detail: conditionDetail(ts.st.Name(), c, "negated operators are true when the key is absent"),
			})
		}
		if op.Base == "StringLike" || op.Base == "StringNotLike" {
			var plain []string
			for _, v := range c.Values {
				if !strings.ContainsAny(v, "*?") {
					plain = append(plain, v)
				}
			}
			if len(plain) > 0 {
				eq := strings.Replace(c.Operator, "Like", "Equals", 1)
				out = append(out, Finding{
					ID:       "trust-stringlike-without-wildcard",
					Severity: SeverityInfo,
					Title:    fmt.Sprintf("%s uses %s for a value without a wildcard; %s says the same more plainly", ts.name, op.Base, strings.Replace(op.Base, "Like", "Equals", 1)),
					Evidence: []string{fmt.Sprintf("%s: %s", ts.name, condJSON(c.Operator, c.Key, plain))},
					Fix:      "Use " + condJSON(eq, c.Key, plain),
				})
			}
		}
	}
	return out
}

// subFindings applies the rules about what the sub conditions let in.
func (ts trustStatement) subFindings(opts AuditOptions) []Finding {
	if len(ts.subs) == 0 {
		return []Finding{ts.noSubFinding()}
	}
	var out []Finding
	var pathPinned []string
	for _, c := range ts.subs {
		like := policy.ParseOperator(c.Operator).Base == "StringLike"
		for _, v := range c.Values {
			shape := classifySub(v, like)
			switch shape.kind {
			case subBroad:
				if len(ts.projectIDs) == 0 {
					out = append(out, ts.broadFinding(c, v, shape))
				}
			case subAnyRef:
				if !ts.protected {
					out = append(out, ts.anyRefFinding(c, v, shape, opts.CanWrite))
				}
				pathPinned = appendPath(pathPinned, shape)
			default:
				pathPinned = appendPath(pathPinned, shape)
			}
		}
	}
	if len(pathPinned) > 0 && len(ts.projectIDs) == 0 {
		out = append(out, ts.pathReuseFinding(pathPinned))
	}
	return out
}

func appendPath(list []string, shape subShape) []string {
	if shape.byPath && !slices.Contains(list, shape.project) {
		list = append(list, shape.project)
	}
	return list
}

func (ts trustStatement) noSubFinding() Finding {
	f := Finding{
		ID:       "trust-no-sub-condition",
		Severity: SeverityCritical,
		Title:    fmt.Sprintf("%s has no condition on %s:sub: any project on %s can assume the role", ts.name, ts.host, ts.host),
		Evidence: []string{fmt.Sprintf("%s trusts %s with conditions: %s", ts.name, ts.arn, conditionsText(ts.st.Conditions))},
		Fix:      "Add to the statement's Condition: " + condJSON("StringEquals", ts.host+":sub", []string{"project_path:GROUP/PROJECT:ref_type:branch:ref:main"}),
	}
	switch {
	case len(ts.projectIDs) > 0:
		f.Severity = SeverityHigh
		f.Title = fmt.Sprintf("%s has no condition on %s:sub: gitlab.com:project_id narrows it to project %s, but any branch, tag or merge request pipeline of it, protected or not, can assume the role", ts.name, ts.host, strings.Join(ts.projectIDs, " or "))
	case len(ts.namespaceIDs) > 0:
		f.Severity = SeverityHigh
		f.Title = fmt.Sprintf("%s has no condition on %s:sub: gitlab.com:namespace_id narrows it to every project directly in namespace %s, on any branch or tag", ts.name, ts.host, strings.Join(ts.namespaceIDs, " or "))
	}
	return f
}

func (ts trustStatement) broadFinding(c policy.Condition, v string, shape subShape) Finding {
	return Finding{
		ID:       "trust-sub-wildcard-broad",
		Severity: SeverityHigh,
		Title:    fmt.Sprintf("%s allows sub %q: %s can assume the role", ts.name, v, shape.radius(ts.host)),
		Evidence: []string{fmt.Sprintf("%s: %s", ts.name, condJSON(c.Operator, c.Key, []string{v}))},
		Fix:      "Name the project: " + condJSON("StringEquals", c.Key, []string{shape.suggestion()}),
		Detail:   conditionDetail(ts.st.Name(), c, "the wildcard covers the project path"),
	}
}

func (ts trustStatement) anyRefFinding(c policy.Condition, v string, shape subShape, canWrite bool) Finding {
	sev := SeverityMedium
	if canWrite {
		sev = SeverityHigh
	}
	fix := "Pin the refs that deploy: " + condJSON("StringEquals", c.Key, []string{shape.lead + shape.project + ":ref_type:branch:ref:main"})
	if ts.dotcom {
		fix += `, or keep the pattern and add ` + condJSON("StringEquals", "gitlab.com:ref_protected", []string{"true"})
	}
	return Finding{
		ID:       "trust-any-ref",
		Severity: sev,
		Title:    fmt.Sprintf("%s allows sub %q: %s can assume the role", ts.name, v, shape.radius(ts.host)),
		Evidence: []string{fmt.Sprintf("%s: %s", ts.name, condJSON(c.Operator, c.Key, []string{v}))},
		Fix:      fix,
		Detail:   conditionDetail(ts.st.Name(), c, "the wildcard covers the ref"),
	}
}

func (ts trustStatement) pathReuseFinding(paths []string) Finding {
	fix := "Set the project's ci_id_token_sub_claim_components to [\"project_id\",\"ref_type\",\"ref\"] (PUT /projects/:id) and allow " +
		condJSON("StringEquals", ts.host+":sub", []string{"project_id:PROJECT_ID:ref_type:branch:ref:main"})
	if ts.dotcom {
		fix = "Add to the statement's Condition: " + condJSON("StringEquals", "gitlab.com:project_id", []string{"PROJECT_ID"})
	}
	return Finding{
		ID:       "trust-path-reuse-risk",
		Severity: SeverityLow,
		Title:    fmt.Sprintf("%s pins %s by path only: whoever takes over the path after a rename or deletion inherits the role", ts.name, strings.Join(paths, ", ")),
		Evidence: []string{fmt.Sprintf("%s: sub names project_path %s and nothing pins the project ID", ts.name, strings.Join(paths, ", "))},
		Fix:      fix,
	}
}

var severityOrder = map[Severity]int{
	SeverityCritical: 0, SeverityError: 0,
	SeverityHigh: 1, SeverityWarning: 1,
	SeverityMedium: 2, SeverityLow: 3, SeverityInfo: 4,
}

// sortAuditFindings orders findings worst first, keeping the policy's order
// among equals.
func sortAuditFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return severityOrder[a.Severity] - severityOrder[b.Severity]
	})
}

// subKind says how much a sub value lets in.
type subKind int

const (
	subExact  subKind = iota // one project, one ref (or a shape we do not know)
	subNarrow                // one project, a pattern of refs such as v* or release/*
	subAnyRef                // one project, any ref (ref_type:* or ref:*)
	subBroad                 // more than one project
)

// subShape is a sub value taken apart along GitLab's default components.
type subShape struct {
	kind    subKind
	lead    string // "project_path:" or "project_id:", "" when the value has neither
	project string // the project part as written (a pattern when broad)
	byPath  bool   // the project is pinned by its path
	refType string // "branch", "tag", or "" when any or unknown
}

// classifySub takes a sub value apart. like says whether the operator
// treats * and ? as wildcards (StringLike); under StringEquals they are
// literal and the value names exactly one sub.
func classifySub(v string, like bool) subShape {
	wild := func(s string) bool { return like && strings.ContainsAny(s, "*?") }
	var s subShape
	switch {
	case strings.HasPrefix(v, "project_path:"):
		s.lead = "project_path:"
	case strings.HasPrefix(v, "project_id:"):
		s.lead = "project_id:"
	default:
		if wild(v) {
			s.kind = subBroad // "*", "*:ref:main", "project_pa*"
		}
		return s
	}
	seg, rest, _ := strings.Cut(v[len(s.lead):], ":")
	s.project = seg
	if wild(seg) {
		s.kind = subBroad
		return s
	}
	s.byPath = s.lead == "project_path:"
	if t, _, ok := strings.Cut(strings.TrimPrefix(rest, "ref_type:"), ":"); ok && strings.HasPrefix(rest, "ref_type:") && !wild(t) {
		s.refType = t
	}
	if !wild(rest) {
		return s
	}
	_, ref, hasRef := strings.Cut(":"+rest, ":ref:")
	switch {
	case strings.HasPrefix(rest, "*"), strings.HasPrefix(rest, "?"), strings.HasPrefix(rest, "ref_type:*"):
		s.kind, s.refType = subAnyRef, ""
	case hasRef && strings.HasPrefix(ref, "*"):
		s.kind = subAnyRef
	default:
		s.kind = subNarrow
	}
	return s
}

// radius says in words who can assume the role through this sub value.
func (s subShape) radius(host string) string {
	if s.kind == subAnyRef {
		switch s.refType {
		case "branch":
			return fmt.Sprintf("any branch of %s, including unprotected ones and merge request source branches,", s.project)
		case "tag":
			return fmt.Sprintf("any tag of %s, including unprotected ones,", s.project)
		}
		return fmt.Sprintf("any branch or tag of %s, including unprotected ones and merge request source branches,", s.project)
	}
	prefix := literalPrefix(s.project)
	switch {
	case s.lead == "" || prefix == "":
		return "any project on " + host
	case strings.HasSuffix(prefix, "/") && s.project == prefix+"*":
		return fmt.Sprintf("every project under %s and its subgroups", prefix)
	case s.lead == "project_id:":
		return fmt.Sprintf("every project whose ID matches %s", s.project)
	}
	return fmt.Sprintf("every project whose path matches %s (not just one)", s.project)
}

// suggestion is an exact sub value to offer instead of a broad one.
func (s subShape) suggestion() string {
	if s.lead == "project_id:" {
		return "project_id:PROJECT_ID:ref_type:branch:ref:main"
	}
	prefix := literalPrefix(s.project)
	project := "GROUP/PROJECT"
	switch {
	case s.lead == "" || prefix == "":
	case strings.HasSuffix(prefix, "/"):
		project = prefix + "PROJECT"
	default:
		project = prefix
	}
	return "project_path:" + project + ":ref_type:branch:ref:main"
}

func literalPrefix(s string) string {
	if i := strings.IndexAny(s, "*?"); i >= 0 {
		return s[:i]
	}
	return s
}

// condJSON renders one condition as it is written inside a Condition block,
// e.g. "StringEquals": {"gitlab.com:sub": "project_path:g/p:..."}.
func condJSON(op, key string, values []string) string {
	var val string
	if len(values) == 1 {
		val = jsonString(values[0])
	} else {
		quoted := make([]string, len(values))
		for i, v := range values {
			quoted[i] = jsonString(v)
		}
		val = "[" + strings.Join(quoted, ", ") + "]"
	}
	return fmt.Sprintf("%s: {%s: %s}", jsonString(op), jsonString(key), val)
}

// denyJSON renders a whole Deny statement holding one condition.
func denyJSON(arn, op, key string, values []string) string {
	return fmt.Sprintf(`{"Effect": "Deny", "Principal": {"Federated": %s}, "Action": %s, "Condition": {%s}}`,
		jsonString(arn), jsonString(policy.ActionWebIdentity), condJSON(op, key, values))
}

func jsonString(s string) string {
	return fmt.Sprintf("%q", s)
}

// positiveOf turns a negated operator into its positive twin, without set
// prefix or IfExists ("StringNotLikeIfExists" -> "StringLike").
func positiveOf(op string) string {
	return strings.Replace(policy.ParseOperator(op).Base, "Not", "", 1)
}

func placeholderFor(key string) string {
	switch {
	case strings.HasSuffix(strings.ToLower(key), ":sub"):
		return "project_path:GROUP/PROJECT:ref_type:branch:ref:main"
	case strings.HasSuffix(strings.ToLower(key), ":aud"):
		return "sts.amazonaws.com"
	}
	return "ALLOWED_VALUE"
}

func conditionsText(conds []policy.Condition) string {
	if len(conds) == 0 {
		return "none"
	}
	parts := make([]string, len(conds))
	for i, c := range conds {
		parts[i] = condJSON(c.Operator, c.Key, c.Values)
	}
	return strings.Join(parts, ", ")
}

func conditionDetail(stmt string, c policy.Condition, why string) *ConditionDetail {
	return &ConditionDetail{Statement: stmt, Operator: c.Operator, Key: c.Key, PolicyValue: c.Values, DiffAt: -1, Why: why}
}

// AuditRole audits a whole role: its trust policy (when known) with
// AuditTrustPolicy, plus role-admin-permissions (AdministratorAccess
// attached, or a permission policy in opts.Policies allowing "*" on "*")
// and role-long-session (MaxSessionDuration above one hour, which lets a
// leaked session key live longer). When opts.CanWrite is not set it is
// inferred from the permissions: admin rights, a policy with non-read
// actions, or an attached policy that was not read (assumed to write).
func AuditRole(in RoleFacts, opts AuditOptions) []Finding {
	admin := adminEvidence(in.AttachedPolicies, opts.Policies)
	if !opts.CanWrite {
		opts.CanWrite = len(admin) > 0 || mayWrite(in.AttachedPolicies, opts.Policies)
	}
	out := AuditTrustPolicy(in.Trust, opts)
	name := roleName(in)
	if len(admin) > 0 {
		out = append(out, Finding{
			ID:       "role-admin-permissions",
			Severity: SeverityHigh,
			Title:    fmt.Sprintf("Role %s has administrator permissions: every pipeline its trust policy admits controls the whole AWS account", name),
			Evidence: admin,
			Fix:      fmt.Sprintf("Replace them with a policy limited to the actions and resources the pipeline needs, e.g. aws iam detach-role-policy --role-name %s --policy-arn arn:aws:iam::aws:policy/AdministratorAccess", name),
		})
	}
	if in.MaxSessionDuration > 3600 {
		out = append(out, Finding{
			ID:       "role-long-session",
			Severity: SeverityLow,
			Title:    fmt.Sprintf("Role %s allows sessions of up to %s: leaked job credentials stay valid that long", name, hours(in.MaxSessionDuration)),
			Evidence: []string{fmt.Sprintf("MaxSessionDuration is %d seconds", in.MaxSessionDuration)},
			Fix:      fmt.Sprintf("aws iam update-role --role-name %s --max-session-duration 3600", name),
		})
	}
	sortAuditFindings(out)
	return out
}

func roleName(in RoleFacts) string {
	if in.Name != "" {
		return in.Name
	}
	if i := strings.LastIndex(in.ARN, "/"); i >= 0 {
		return in.ARN[i+1:]
	}
	return in.ARN
}

func hours(secs int32) string {
	if secs%3600 == 0 {
		return fmt.Sprintf("%d hours", secs/3600)
	}
	return fmt.Sprintf("%d minutes", secs/60)
}

// adminEvidence lists why the role counts as administrator, if it does.
func adminEvidence(attached []string, docs map[string]*policy.Document) []string {
	var ev []string
	for _, arn := range attached {
		if strings.HasSuffix(arn, ":policy/AdministratorAccess") || arn == "AdministratorAccess" {
			ev = append(ev, "attached managed policy "+arn)
		}
	}
	for _, name := range sortedKeys(docs) {
		doc := docs[name]
		if doc == nil {
			continue
		}
		for _, st := range doc.Statements {
			if st.Effect == "Allow" && hasAny(st.Actions, "*", "*:*") && slices.Contains(st.Resources, "*") {
				ev = append(ev, fmt.Sprintf("policy %s, %s: allows \"*\" on \"*\"", name, st.Name()))
			}
		}
	}
	return ev
}

// readOnlyPolicies are AWS managed policies that grant no writes.
var readOnlyPolicies = []string{"ReadOnlyAccess", "ViewOnlyAccess", "SecurityAudit"}

// readVerbs start the names of actions that only read.
var readVerbs = []string{"get", "list", "describe", "head", "batchget", "query", "scan", "lookup", "search", "select", "view"}

// mayWrite is a conservative guess whether the role can change resources:
// any attached policy that was not read counts as writing unless its name
// says read-only.
func mayWrite(attached []string, docs map[string]*policy.Document) bool {
	for _, arn := range attached {
		if docs[arn] != nil {
			continue
		}
		name := arn[strings.LastIndex(arn, "/")+1:]
		if !slices.ContainsFunc(readOnlyPolicies, func(p string) bool { return strings.HasSuffix(name, p) }) {
			return true
		}
	}
	for _, doc := range docs {
		if doc != nil && docWrites(doc) {
			return true
		}
	}
	return false
}

func docWrites(doc *policy.Document) bool {
	for _, st := range doc.Statements {
		if st.Effect != "Allow" {
			continue
		}
		if st.NotActions != nil {
			return true
		}
		for _, a := range st.Actions {
			_, verb, _ := strings.Cut(strings.ToLower(a), ":")
			if !slices.ContainsFunc(readVerbs, func(p string) bool { return strings.HasPrefix(verb, p) }) {
				return true
			}
		}
	}
	return false
}

func hasAny(list []string, want ...string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return slices.Contains(want, s) })
}

func sortedKeys(m map[string]*policy.Document) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
