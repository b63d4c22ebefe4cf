package token

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// claimsFromMap fills Claims from decoded JSON. GitLab sends its claims as
// strings ("20", "false"), but other issuers and hand-made tokens use numbers
// and booleans, so scalar values are accepted in any JSON type and turned into
// the text IAM would compare.
func claimsFromMap(m map[string]any) (Claims, error) {
	c := Claims{Raw: m}
	str := func(name string) string {
		v, _ := scalarText(m[name])
		return v
	}
	c.Issuer, c.Subject, c.JTI = str("iss"), str("sub"), str("jti")
	c.NamespaceID, c.NamespacePath = str("namespace_id"), str("namespace_path")
	c.ProjectID, c.ProjectPath = str("project_id"), str("project_path")
	c.Ref, c.RefType, c.RefPath = str("ref"), str("ref_type"), str("ref_path")
	c.RefProtected = str("ref_protected")
	c.PipelineID, c.PipelineSource, c.JobID = str("pipeline_id"), str("pipeline_source"), str("job_id")
	c.Environment, c.EnvironmentProtected = str("environment"), str("environment_protected")
	c.DeploymentTier = str("deployment_tier")
	c.UserID, c.UserLogin = str("user_id"), str("user_login")
	c.UserEmail, c.UserAccessLevel = str("user_email"), str("user_access_level")
	c.RunnerEnvironment = str("runner_environment")
	c.JobProjectID, c.JobProjectPath = str("job_project_id"), str("job_project_path")
	c.RunnerID, c.SHA = str("runner_id"), str("sha")

	if aud, ok := c.Value("aud"); ok {
		c.Audience = aud
	}
	var err error
	for _, tc := range []struct {
		name string
		dst  **time.Time
	}{{"exp", &c.Expiry}, {"nbf", &c.NotBefore}, {"iat", &c.IssuedAt}} {
		if *tc.dst, err = numericDate(tc.name, m[tc.name]); err != nil {
			return Claims{}, err
		}
	}
	return c, nil
}

// maxNumericDate bounds NumericDates (about year 33658) so that conversion to
// time.Time cannot overflow.
const maxNumericDate = 1e12

// numericDate reads a JWT NumericDate (seconds since the epoch). Absent or
// null gives nil. A numeric string is accepted, since GitLab writes most
// claims as strings; anything else is an error naming the claim.
func numericDate(name string, v any) (*time.Time, error) {
	var text string
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.Number:
		text = x.String()
	case string:
		text = x
	default:
		return nil, fmt.Errorf("claim %s is a %s, not a NumericDate (seconds since 1970)", name, jsonType(v))
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) {
		return nil, fmt.Errorf("claim %s is %q, not a NumericDate (seconds since 1970)", name, text)
	}
	if math.Abs(f) > maxNumericDate {
		return nil, fmt.Errorf("claim %s is %s, far outside any real date", name, text)
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return &t, nil
}

// scalarText renders a JSON scalar as IAM compares it: strings as they are,
// numbers in decimal, booleans as "true"/"false". ok is false for null,
// arrays and objects.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return numberText(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// numberText gives the decimal form of a JSON number, expanding exponents
// ("1e3" is "1000") so that it compares like the integer it stands for.
func numberText(n json.Number) string {
	if !strings.ContainsAny(n.String(), ".eE") {
		return n.String()
	}
	if f, err := n.Float64(); err == nil {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return n.String()
}

func jsonType(v any) string {
	switch v.(type) {
	case []any:
		return "JSON array"
	case map[string]any:
		return "JSON object"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

// Value returns any claim as strings, the way a condition on it is evaluated:
// scalars give one value, arrays give one value per element (non-scalar
// elements as JSON text), objects give their JSON text. ok is false when the
// claim is absent or null, since a null claim cannot satisfy a condition.
func (c Claims) Value(name string) (values []string, ok bool) {
	v, present := c.Raw[name]
	if !present || v == nil {
		return nil, false
	}
	if s, isScalar := scalarText(v); isScalar {
		return []string{s}, true
	}
	if arr, isArray := v.([]any); isArray {
		values = make([]string, 0, len(arr))
		for _, e := range arr {
			s, isScalar := scalarText(e)
			if !isScalar {
				s = jsonText(e)
			}
			values = append(values, s)
		}
		return values, true
	}
	return []string{jsonText(v)}, true
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
